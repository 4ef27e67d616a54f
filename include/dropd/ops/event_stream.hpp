#pragma once

// Reading a text/event-stream response as it arrives, for `dropd status
// --follow` (net::HttpClient hands over whole responses only, and /events
// never ends). Three pure steps over the bytes of one connection: the
// response head, the chunked framing (if any), and the SSE fields. No I/O;
// any thread, one owner each.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"
#include "dropd/net/sse_parser.hpp"

namespace dropd::ops {

struct StreamHead {
  int status = 0;
  bool chunked = false;  // Transfer-Encoding: chunked
  std::size_t size = 0;  // bytes of the head, blank line included
};

// The response head at the start of `bytes`: nullopt while its blank line
// has not arrived (Error kTooLarge past 16 KiB), kProtocol when malformed.
[[nodiscard]] Result<std::optional<StreamHead>> parseStreamHead(std::string_view bytes);

// Undoes chunked framing (RFC 9112 §7.1) piece by piece.
class ChunkedDecoder {
 public:
  // The body bytes that `bytes` completes; kProtocol on a bad chunk line.
  [[nodiscard]] Result<std::string> feed(std::string_view bytes);
  // True once the last (zero-size) chunk and its trailer were read.
  [[nodiscard]] bool finished() const noexcept { return state_ == State::kFinished; }

 private:
  enum class State { kSizeLine, kData, kDataEnd, kTrailer, kFinished };
  State state_ = State::kSizeLine;
  std::string line_;      // a size or trailer line until its LF
  std::size_t left_ = 0;  // bytes of the current chunk still to come
};

// The SSE fields: net::SseParser (moved to net so that llm can use it too).
using net::SseEvent;
using net::SseParser;

}  // namespace dropd::ops
