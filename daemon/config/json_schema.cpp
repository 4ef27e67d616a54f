#include "dropd/config/json_schema.hpp"

// Before valijson: its errors are exceptions here (compile() catches them)
// rather than a message on stderr and abort().
#define VALIJSON_USE_EXCEPTIONS 1
#include <exception>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace dropd::config {

struct JsonSchema::Compiled {
  valijson::Schema schema;
};

JsonSchema::JsonSchema(Key /*key*/, std::unique_ptr<Compiled> compiled)
    : compiled_(std::move(compiled)) {}
JsonSchema::~JsonSchema() = default;

Result<std::shared_ptr<const JsonSchema>> JsonSchema::compile(const nlohmann::json& schema) {
  if (!schema.is_object() && !schema.is_boolean()) {
    return makeError(ErrorCode::kInvalid, "a JSON Schema is an object (or true/false)");
  }
  auto compiled = std::make_unique<Compiled>();
  try {
    // Draft 7 also reads draft 4 and 6 schemas: it knows their keywords
    // (const, contains, propertyNames, numeric exclusiveMinimum).
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    const valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalid,
                     std::string("not a JSON Schema valijson accepts: ") + e.what());
  }
  return std::make_shared<const JsonSchema>(Key{}, std::move(compiled));
}

std::vector<SchemaError> JsonSchema::validate(const nlohmann::json& value) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  const valijson::adapters::NlohmannJsonAdapter adapter(value);
  std::vector<SchemaError> out;
  try {
    if (validator.validate(compiled_->schema, adapter, &results)) {
      return out;
    }
  } catch (const std::exception& e) {
    // A "pattern" std::regex cannot compile is only found here.
    out.push_back({"", std::string("the schema cannot be applied: ") + e.what()});
    return out;
  }
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    out.push_back({jsonPointerOf(error.context), error.description});
  }
  return out;
}

std::string jsonPointerOf(std::span<const std::string> context) {
  std::string out;
  for (const std::string& part : context) {
    if (part.size() < 2 || part.front() != '[' || part.back() != ']') {
      continue;  // "<root>"
    }
    std::string_view name(part);
    name = name.substr(1, name.size() - 2);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    out += '/';
    for (const char c : name) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

std::string formatSchemaErrors(std::span<const SchemaError> errors, std::size_t max_bytes) {
  std::string out;
  std::size_t written = 0;
  for (const SchemaError& e : errors) {
    std::string one = "at " + (e.pointer.empty() ? std::string("/") : e.pointer) + ": " + e.message;
    const std::string sep = out.empty() ? "" : "; ";
    if (out.size() + sep.size() + one.size() > max_bytes) {
      break;
    }
    out += sep + one;
    ++written;
  }
  if (written < errors.size()) {
    const std::string more = (out.empty() ? "" : "; ") + std::string("... ") +
                             std::to_string(errors.size() - written) + " more";
    // Room for the tail: drop what does not fit, at a byte boundary of
    // ASCII text we wrote or of a message (which may then end mid-character:
    // the record writer replaces a broken sequence).
    if (out.size() + more.size() > max_bytes) {
      out.resize(max_bytes > more.size() ? max_bytes - more.size() : 0);
    }
    out += more;
    if (out.size() > max_bytes) {
      out.resize(max_bytes);
    }
  }
  return out;
}

}  // namespace dropd::config
