#pragma once

// The bytes of a streamed (SSE) answer as the fake writes them: the head,
// one chunk of chunked framing per event, and what the stream faults of
// fault.hpp do to them (stream-cut, stream-error, stall, split). Pure; any
// thread.

#include <string>
#include <string_view>
#include <vector>

#include "dropd/fake_llm/fault.hpp"
#include "dropd/net/http_message.hpp"
#include "dropd/net/responder.hpp"

namespace dropd::fake_llm {

struct StreamWrites {
  std::vector<std::string> pieces;  // one write each, in order (Responder::sendRaw)
  net::Responder::After after = net::Responder::After::kKeepOpen;
};

// `events`: streamEvents() of the request. `headers` go out with the
// 200 head, after Content-Type: text/event-stream and Cache-Control:
// no-cache. A faulted stream sends the first half of the events
// (at least one) before its fault.
// `bytes` as one gzip member (RFC 1952), for the `gzip` fault.
[[nodiscard]] std::string gzipBytes(std::string_view bytes);

// With plan.gzip (and no stream fault) the events go out as one gzip
// stream in three chunks, with Content-Encoding: gzip.
[[nodiscard]] StreamWrites streamWrites(const std::vector<std::string>& events,
                                        const FaultPlan& plan, std::vector<net::Header> headers);

}  // namespace dropd::fake_llm
