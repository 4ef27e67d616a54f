#include "dropd/pipeline/attempt_outcome.hpp"

namespace dropd::pipeline {

using throttle::Outcome;

Outcome attemptOutcome(const llm::Failure* failure) noexcept {
  if (failure == nullptr) {
    return Outcome::kSuccess;
  }
  if (failure->cls == llm::FailureClass::kPauseEndpoint) {
    return Outcome::kRejected;
  }
  if (failure->kind == "response_too_large") {
    return Outcome::kClientError;  // the endpoint answered; this file's answer is unusable
  }
  const int status = failure->http_status;
  if (status == 0) {
    return failure->kind == "timeout" ? Outcome::kOverloaded : Outcome::kNetworkError;
  }
  if (status == 429) {
    return Outcome::kRateLimited;
  }
  if (status == 408 || status == 503) {
    return Outcome::kOverloaded;
  }
  if (status >= 400 && status <= 499) {
    return Outcome::kClientError;
  }
  return Outcome::kServerError;  // other 5xx, garbled 2xx, 1xx/3xx/junk statuses
}

}  // namespace dropd::pipeline
