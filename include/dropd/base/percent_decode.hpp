#pragma once

// Percent-decoding (RFC 3986 §2.1) for the places that read a URL's parts:
// the status server's query parameters and a proxy URL's userinfo. Pure,
// total: any bytes in, any bytes out; a `%` not followed by two hex digits
// stays as written (as curl and browsers leave it), so the output is never
// longer than the input. Any thread.

#include <string>
#include <string_view>

namespace dropd::base {

enum class PlusIs { kPlus, kSpace };

// "%41" -> "A"; with PlusIs::kSpace also "+" -> " ", as HTML forms (and
// browsers' query strings) send a space.
[[nodiscard]] std::string percentDecode(std::string_view text, PlusIs plus = PlusIs::kPlus);

}  // namespace dropd::base
