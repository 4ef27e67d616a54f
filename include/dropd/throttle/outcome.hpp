#pragma once

// How one request to an endpoint ended, in the terms the EndpointLimiter
// counts (circuit breaker, AIMD, auth pause). llm's status table
// (llm/status_class.hpp) sorts answers into these. No dependencies, so a
// module may name an Outcome without the limiter's headers. Any thread.

namespace dropd::throttle {

enum class Outcome {
  kSuccess,       // 2xx
  kClientError,   // 400, 404, 413, 422...: the server is fine, the request was not
  kRateLimited,   // 429 rate_limit_exceeded
  kOverloaded,    // 503, 408, a timeout
  kServerError,   // any other 5xx
  kNetworkError,  // connect/reset/TLS: no HTTP answer
  kRejected,      // 401, 403, 429 insufficient_quota: the caller also calls pauseUntil()
};

}  // namespace dropd::throttle
