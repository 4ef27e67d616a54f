#pragma once

// What one request to an LLM endpoint came back with, as an llm::Client
// hands it over: everything the Dispatcher (retry or not) and the SendGate
// (the endpoint's limiter) need, and nothing of HTTP. Any thread.

#include <chrono>
#include <optional>

#include <tl/expected.hpp>

#include "dropd/llm/response.hpp"
#include "dropd/throttle/outcome.hpp"
#include "dropd/throttle/rate_limit_headers.hpp"

namespace dropd::llm {

struct Attempt {
  // The completion, or why there is none (its class says retry, pause or fail).
  tl::expected<Completion, Failure> result;
  // How the endpoint's limiter counts it (status_class.hpp); kSuccess with a
  // completion.
  throttle::Outcome outcome = throttle::Outcome::kSuccess;
  // The wait the server asked for (retry-after-ms, else Retry-After), on any
  // answer; nullopt without one or without an answer.
  std::optional<std::chrono::milliseconds> retry_after;
  // The answer's x-ratelimit-* headers; all nullopt without an answer.
  throttle::RateLimitHints rate_limits;
  // From handing the request over to the answer (or the error).
  std::chrono::nanoseconds latency{0};
  // close() cancelled the request (shutdown): nothing else here means anything.
  bool cancelled = false;
};

}  // namespace dropd::llm
