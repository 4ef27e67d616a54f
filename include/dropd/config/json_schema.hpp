#pragma once

// A JSON Schema (drafts 4, 6 and 7), compiled once and then used to check
// answers. It wraps valijson (header-only, over nlohmann_json through its
// adapter; Debian's libvalijson-dev), so no other file sees valijson.
// compile() runs at config load; validate() is const, touches no shared
// state, and may run on any thread. Nothing here throws.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dropd/base/error.hpp"

namespace dropd::config {

// One reason a value does not match: where (a JSON pointer into the value,
// "" for the value itself) and what.
struct SchemaError {
  std::string pointer;
  std::string message;
};

class JsonSchema {
 public:
  // Compiles `schema`. kInvalid, with valijson's reason, when it is not a
  // schema valijson accepts (a bad type, a $ref it cannot resolve: remote
  // references are not fetched).
  [[nodiscard]] static Result<std::shared_ptr<const JsonSchema>> compile(
      const nlohmann::json& schema);
  struct Compiled;  // valijson::Schema; json_schema.cpp
  // For compile() (through make_shared) only: Key cannot be made outside.
  class Key {
    friend class JsonSchema;
    Key() = default;
  };
  JsonSchema(Key key, std::unique_ptr<Compiled> compiled);
  ~JsonSchema();
  JsonSchema(const JsonSchema&) = delete;
  JsonSchema& operator=(const JsonSchema&) = delete;

  // Every error valijson reports, innermost first as it reports them;
  // empty when `value` matches.
  [[nodiscard]] std::vector<SchemaError> validate(const nlohmann::json& value) const;

 private:
  std::unique_ptr<Compiled> compiled_;
};

// The errors as one line for a record or a repair prompt: "at /a: why; at
// /b: why", at most `max_bytes` bytes (cut at a whole error where it can,
// then "; ... N more"). Pure; empty input gives "".
[[nodiscard]] std::string formatSchemaErrors(std::span<const SchemaError> errors,
                                             std::size_t max_bytes = 1000);

// valijson's context ("<root>", "[items]", "[0]") as a JSON pointer
// ("/items/0"), with '~' and '/' escaped as RFC 6901 says. Pure.
[[nodiscard]] std::string jsonPointerOf(std::span<const std::string> context);

}  // namespace dropd::config
