#pragma once

// Sorting how one request ended into the throttle::Outcome that the
// endpoint's EndpointLimiter counts (circuit breaker, AIMD, auth pause).
// Pure; any thread.
//
//   no failure (a usable 2xx completion)        kSuccess
//   401, 403, 429 insufficient_quota (kPause)   kRejected (the caller pauses)
//   no HTTP answer, kind "timeout"              kOverloaded
//   no HTTP answer, anything else               kNetworkError
//   429 (rate limit)                            kRateLimited
//   408, 503                                    kOverloaded
//   other 5xx, a 2xx whose body is unreadable,
//   any status outside 200..599                 kServerError
//   other 4xx (400, 404, 409, 413, 422, ...)    kClientError
//   kind "response_too_large" (over the cap)    kClientError
//
// A garbled 2xx counts against the endpoint's health: the server answered,
// but not with something usable. A 409 is retried by the Dispatcher but is
// an answer from a healthy server, so it counts as kClientError here. So
// does an answer over max_response_bytes: the server answered, the file
// fails (the same request would get the same answer), the endpoint stays
// healthy.

#include "dropd/llm/response.hpp"
#include "dropd/throttle/endpoint_limiter.hpp"

namespace dropd::pipeline {

// `failure`: null when the attempt succeeded. Transport failures (no HTTP
// answer) have http_status 0 and kind "timeout", "network" or
// "response_too_large" (llm::transportFailure).
[[nodiscard]] throttle::Outcome attemptOutcome(const llm::Failure* failure) noexcept;

}  // namespace dropd::pipeline
