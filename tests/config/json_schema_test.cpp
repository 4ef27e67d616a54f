#include "dropd/config/json_schema.hpp"

#include <catch2/catch.hpp>

#include "dropd/config/config_error.hpp"
#include "dropd/config/load.hpp"

#include "support/temp_dir.hpp"

namespace {

using dropd::config::formatSchemaErrors;
using dropd::config::JsonSchema;
using dropd::config::SchemaError;
using nlohmann::json;

const json kSummary = json::parse(R"({
  "type": "object",
  "required": ["summary", "bytes"],
  "additionalProperties": false,
  "properties": {"summary": {"type": "string"}, "bytes": {"type": "integer", "minimum": 0},
                 "tags": {"type": "array", "items": {"type": "string"}}}
})");

std::string pipelineWithOutput(const std::string& output) {
  return "endpoints:\n"
         "  local:\n"
         "    url: http://127.0.0.1:8089/v1\n"
         "pipelines:\n"
         "  - watch: [/srv/in]\n"
         "    endpoint: local\n"
         "    output: " +
         output + "\n";
}

std::string onlyError(const std::string& yaml, const std::filesystem::path& base) {
  try {
    (void)dropd::config::loadConfigString(yaml, "c.yaml", base);
  } catch (const dropd::config::ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    return e.diagnostics()[0].str();
  }
  FAIL("loaded:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE("JsonSchema accepts a matching value and lists what does not match", "[config]") {
  auto schema = JsonSchema::compile(kSummary);
  REQUIRE(schema.has_value());
  CHECK((*schema)->validate(json{{"summary", "ok"}, {"bytes", 3}}).empty());

  SECTION("wrong types, with a JSON pointer each") {
    const auto errors = (*schema)->validate(json{{"summary", 42}, {"bytes", "many"}});
    REQUIRE_FALSE(errors.empty());
    const std::string text = formatSchemaErrors(errors);
    CHECK(text.find("at /summary: ") != std::string::npos);
    CHECK(text.find("at /bytes: ") != std::string::npos);
  }
  SECTION("a missing key and an extra one") {
    const auto errors = (*schema)->validate(json{{"summary", "s"}, {"extra", 1}});
    CHECK(errors.size() >= 2);
  }
  SECTION("an item deep in an array") {
    const auto errors =
        (*schema)->validate(json{{"summary", "s"}, {"bytes", 1}, {"tags", {"a", 7}}});
    REQUIRE_FALSE(errors.empty());
    CHECK(formatSchemaErrors(errors).find("at /tags/1: ") != std::string::npos);
  }
  SECTION("not an object at all") {
    const auto errors = (*schema)->validate(json::array());
    REQUIRE_FALSE(errors.empty());
    CHECK(formatSchemaErrors(errors).rfind("at /: ", 0) == 0);
  }
}

TEST_CASE("JsonSchema refuses what is not a schema", "[config]") {
  CHECK_FALSE(JsonSchema::compile(json(42)).has_value());
  CHECK_FALSE(JsonSchema::compile(json{{"type", 12}}).has_value());
  CHECK_FALSE(JsonSchema::compile(json{{"$ref", "http://example.com/remote.json"}}).has_value());
  CHECK(JsonSchema::compile(json(true)).has_value());
  CHECK(JsonSchema::compile(json{{"const", 3}}).has_value());  // draft 6
}

TEST_CASE("formatSchemaErrors stays within its byte bound", "[config]") {
  std::vector<SchemaError> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back(
        {"/items/" + std::to_string(i), "Value type not permitted by 'type' constraint."});
  }
  CHECK(formatSchemaErrors({}).empty());
  for (const std::size_t bound : {0u, 5u, 20u, 200u, 1000u}) {
    const std::string text = formatSchemaErrors(many, bound);
    CHECK(text.size() <= bound);
  }
  const std::string text = formatSchemaErrors(many, 300);
  CHECK(text.find("at /items/0: ") == 0);
  CHECK(text.find(" more") != std::string::npos);
}

TEST_CASE("jsonPointerOf escapes ~ and / as RFC 6901 says", "[config]") {
  const std::vector<std::string> context{"<root>", "[a/b]", "[c~d]", "[0]"};
  CHECK(dropd::config::jsonPointerOf(context) == "/a~1b/c~0d/0");
  CHECK(dropd::config::jsonPointerOf({}).empty());
}

TEST_CASE("output.schema is read and compiled at load, errors point into it", "[config]") {
  const dropd::test::TempDir dir;
  dir.write("ok.json", kSummary.dump(2));
  dir.write("bad.json",
            "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a\": nope\n  }\n}\n");
  dir.write("noschema.json", R"({"type": 12})");
  const auto base = dir.path();

  SECTION("a good schema sets format json") {
    const auto config = dropd::config::loadConfigString(
        pipelineWithOutput("{ dir: /srv/out, schema: ok.json, max_repairs: 2 }"), "c.yaml", base);
    const auto& p = config.pipelines.at(0);
    CHECK(p.output_format == dropd::config::OutputFormat::kJson);
    REQUIRE(p.output_schema.has_value());
    CHECK(p.output_schema->file == base / "ok.json");
    CHECK(p.output_schema->compiled != nullptr);
    CHECK(p.max_repairs == 2);
  }
  SECTION("JSON that does not parse names its line and column") {
    const std::string e =
        onlyError(pipelineWithOutput("{ dir: /srv/out, schema: bad.json }"), base);
    CHECK(e.find("c.yaml:7:") == 0);
    CHECK(e.find("pipelines[0].output.schema") != std::string::npos);
    CHECK(e.find((base / "bad.json").string() + ":4:1") != std::string::npos);
  }
  SECTION("JSON that is not a schema") {
    const std::string e =
        onlyError(pipelineWithOutput("{ dir: /srv/out, schema: noschema.json }"), base);
    CHECK(e.find("not a JSON Schema") != std::string::npos);
  }
  SECTION("a missing file") {
    CHECK(onlyError(pipelineWithOutput("{ dir: /srv/out, schema: gone.json }"), base)
              .find("cannot read") != std::string::npos);
  }
  SECTION("schema and max_repairs need format json") {
    CHECK(onlyError(pipelineWithOutput("{ dir: /srv/out, format: text, schema: ok.json }"), base)
              .find("only used with format: json") != std::string::npos);
    CHECK(onlyError(pipelineWithOutput("{ dir: /srv/out, max_repairs: 1 }"), base)
              .find("only used with format: json") != std::string::npos);
  }
  SECTION("format json without a schema") {
    const auto config = dropd::config::loadConfigString(
        pipelineWithOutput("{ dir: /srv/out, format: json }"), "c.yaml", base);
    CHECK(config.pipelines.at(0).output_format == dropd::config::OutputFormat::kJson);
    CHECK_FALSE(config.pipelines.at(0).output_schema.has_value());
  }
}

TEST_CASE("endpoints.*.structured_output takes the three modes", "[config]") {
  const std::string yaml =
      "endpoints:\n  local:\n    url: http://127.0.0.1:8089/v1\n    structured_output: prompt\n"
      "pipelines:\n  - watch: [/srv/in]\n    endpoint: local\n    output: { dir: /srv/out }\n";
  const auto config = dropd::config::loadConfigString(yaml, "c.yaml");
  CHECK(config.endpoints.at(0).structured_output == dropd::config::StructuredOutput::kPrompt);
  CHECK(dropd::config::Endpoint{}.structured_output ==
        dropd::config::StructuredOutput::kJsonSchema);
}

TEST_CASE("JsonSchema and formatSchemaErrors benchmarks", "[.][bench]") {
  auto schema = JsonSchema::compile(kSummary);
  REQUIRE(schema.has_value());
  const json good{{"summary", std::string(200, 'x')}, {"bytes", 3}, {"tags", {"a", "b", "c"}}};
  const json bad{{"summary", 1}, {"bytes", -1}, {"tags", {1, 2, 3}}};
  BENCHMARK("validate a matching object") { return (*schema)->validate(good).size(); };
  BENCHMARK("validate and format a bad one") {
    return formatSchemaErrors((*schema)->validate(bad)).size();
  };
}
