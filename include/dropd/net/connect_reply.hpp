#pragma once

// Reads the head of an HTTP proxy's answer to CONNECT (RFC 9110 §9.3.6).
// Pure; any thread. Only the status line matters: the headers are skipped,
// and a 2xx has no body whatever its headers say (the tunnel starts right
// after the head). A non-2xx may have a body; the caller closes the
// connection instead of reading it.

#include <cstddef>
#include <string_view>

namespace dropd::net {

struct ConnectReply {
  enum class State {
    kIncomplete,  // no blank line yet: read more (unless head_limit was passed)
    kDone,        // the head ended at `head_bytes`; `status` is the code
    kMalformed,   // not an HTTP/1.x status line, or a head over the limit
  };
  State state = State::kIncomplete;
  int status = 0;              // 100..999 when kDone
  std::size_t head_bytes = 0;  // the status line and headers, blank line included
};

// `data` is everything read so far from the start of the answer. An answer
// whose head is longer than `head_limit` bytes without ending is kMalformed.
// Line ends are CRLF or bare LF.
[[nodiscard]] ConnectReply parseConnectReply(std::string_view data,
                                             std::size_t head_limit) noexcept;

}  // namespace dropd::net
