#pragma once

// Appends bytes to a JSON document as the inside of a string literal. Any
// input is accepted: invalid UTF-8 is replaced by U+FFFD (one per maximal
// invalid subpart, as the Unicode standard recommends), so the request body is
// always valid JSON and valid UTF-8. Pure; callable from any thread.

#include <string>
#include <string_view>

namespace dropd::llm {

// The caller reserves room: this appends without reserving, so many small
// calls into one body keep std::string's geometric growth.
void appendJsonEscaped(std::string& out, std::string_view bytes);

}  // namespace dropd::llm
