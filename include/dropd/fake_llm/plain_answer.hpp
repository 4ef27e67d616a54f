#pragma once

// How the fake writes a non-streamed answer: Content-Length, chunked, or
// spoilt by the framing faults of fault.hpp (reset-mid-body, oversize,
// malformed-json, gzip, chunk-ext, slow-body, chunked). Loop thread only
// (it writes through a Responder).

#include <string>
#include <vector>

#include "dropd/fake_llm/fault.hpp"
#include "dropd/net/http_message.hpp"
#include "dropd/net/responder.hpp"

namespace dropd::fake_llm {

// A non-streamed answer on its way out.
struct PlainAnswer {
  int status = 200;
  std::vector<net::Header> headers;
  std::string body;
};

// reset-mid-body and oversize: an answer cut short by its framing. False
// (nothing sent) when the plan asks for neither.
[[nodiscard]] bool sendCutShort(const net::Responder& responder, const FaultPlan& plan,
                                const std::string& body);

// A whole answer, its body spoilt and framed as the plan says:
// malformed-json, gzip (only an unfaulted 200), chunk-ext, slow-body,
// chunked, else Content-Length.
void sendPlain(const net::Responder& responder, const FaultPlan& plan, PlainAnswer answer);

}  // namespace dropd::fake_llm
