#pragma once

// What a plain (unquoted, untagged) YAML scalar in `endpoints.*.params`
// becomes in the request's JSON, by the YAML 1.2 core schema
// (https://yaml.org/spec/1.2.2/#1032-tag-resolution), so that the value a
// user reads in the file is the value the server gets:
//
//   null, Null, NULL, ~, empty     null
//   true, True, TRUE (false ...)   true / false
//   [-+]?[0-9]+                    an integer ("+1" is 1, "007" is 7)
//   0o[0-7]+, 0x[0-9a-fA-F]+       an integer ("0o17" is 15, "0x10" is 16)
//   decimal with . or exponent     a floating-point number ("1e3" is 1000.0)
//   anything else                  the text, as a string (yes, on, 0b1, 1_000)
//
// Refused, with a message fit for a config diagnostic: infinities and NaN
// (.inf, -.inf, .nan, and the inf/nan/infinity spellings a user may mean as
// numbers), because JSON cannot carry them; integers outside int64 and
// uint64 and floats that overflow a double, because they would not arrive
// as written. A quoted scalar is always a string; the caller handles that.
// Pure, total; any thread.

#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/base/error.hpp"

namespace dropd::config {

[[nodiscard]] Result<nlohmann::json> plainScalarToJson(std::string_view text);

}  // namespace dropd::config
