#pragma once

// The chunk-size line of a chunked body (RFC 9112 §7.1), checked against
// the full grammar, extensions included:
//
//   chunk-size [ chunk-ext ]
//   chunk-ext     = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val = token / quoted-string
//
// HttpParser checks these lines itself because the llhttp 8.1 that Debian
// ships refuses legal ones (see daemon/net/http_parser.cpp). Pure; any
// thread.

#include <optional>
#include <string_view>

namespace dropd::net {

// `line` without its CRLF. Returns the chunk-size digits (1*HEXDIG, not
// checked for overflow: llhttp does that), or nullopt if the line is not
// legal. Extensions are dropped: dropd gives them no meaning.
[[nodiscard]] std::optional<std::string_view> chunkSizeOf(std::string_view line) noexcept;

}  // namespace dropd::net
