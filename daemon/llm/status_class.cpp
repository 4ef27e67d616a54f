#include "dropd/llm/status_class.hpp"

namespace dropd::llm {
namespace {

using throttle::Outcome;

FailureClass failureClass(int status, std::string_view error_code) noexcept {
  if (status == 401 || status == 403 || error_code == "insufficient_quota") {
    return FailureClass::kPauseEndpoint;
  }
  if (status == 408 || status == 409 || status == 429 || status >= 500) {
    return FailureClass::kRetry;
  }
  return FailureClass::kFailFile;
}

Outcome statusOutcome(int status) noexcept {
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

}  // namespace

std::string_view toString(FailureKind kind) noexcept {
  switch (kind) {
    case FailureKind::kHttp:
      return "http";
    case FailureKind::kBadResponse:
      return "bad_response";
    case FailureKind::kContextLength:
      return "context_length";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kNetwork:
      return "network";
    case FailureKind::kResponseTooLarge:
      return "response_too_large";
    case FailureKind::kSkipped:
      return "skipped";
    case FailureKind::kRead:
      return "read";
    case FailureKind::kOutput:
      return "output";
    case FailureKind::kRefusal:
      return "refusal";
    case FailureKind::kEmptyAnswer:
      return "empty_answer";
    case FailureKind::kStreamError:
      return "stream_error";
    case FailureKind::kInvalidOutput:
      return "invalid_output";
    case FailureKind::kExtract:
      return "extract";
  }
  return "unknown";
}

StatusClass classifyAnswer(int status, std::string_view error_code) noexcept {
  if (status >= 200 && status <= 299) {
    // The answer was a success whose body we could not use.
    return {FailureClass::kRetry, FailureKind::kBadResponse, Outcome::kServerError};
  }
  StatusClass out;
  out.cls = failureClass(status, error_code);
  out.kind =
      error_code == "context_length_exceeded" ? FailureKind::kContextLength : FailureKind::kHttp;
  out.outcome =
      out.cls == FailureClass::kPauseEndpoint ? Outcome::kRejected : statusOutcome(status);
  return out;
}

StatusClass classifyCompletion(AnswerProblem problem) noexcept {
  switch (problem) {
    case AnswerProblem::kRefusal:
      return {FailureClass::kFailFile, FailureKind::kRefusal, Outcome::kClientError};
    case AnswerProblem::kEmpty:
      return {FailureClass::kRetry, FailureKind::kEmptyAnswer, Outcome::kClientError};
    case AnswerProblem::kNotACompletion:
      break;
  }
  return {FailureClass::kRetry, FailureKind::kBadResponse, Outcome::kServerError};
}

StatusClass classifyStreamError(std::string_view error_code) noexcept {
  if (error_code == "insufficient_quota") {
    return {FailureClass::kPauseEndpoint, FailureKind::kStreamError, Outcome::kRejected};
  }
  if (error_code == "context_length_exceeded") {
    return {FailureClass::kFailFile, FailureKind::kContextLength, Outcome::kClientError};
  }
  return {FailureClass::kRetry, FailureKind::kStreamError, Outcome::kServerError};
}

StatusClass classifyTransport(ErrorCode code) noexcept {
  if (code == ErrorCode::kTooLarge) {
    // The endpoint answered; this file's answer is unusable.
    return {FailureClass::kFailFile, FailureKind::kResponseTooLarge, Outcome::kClientError};
  }
  if (code == ErrorCode::kUntrusted || code == ErrorCode::kRejected) {
    // Like a bad key: no retry will make the certificate verify, or the
    // proxy take the credentials it refused (a 407).
    return {FailureClass::kPauseEndpoint, FailureKind::kNetwork, Outcome::kRejected};
  }
  if (code == ErrorCode::kTimeout) {
    return {FailureClass::kRetry, FailureKind::kTimeout, Outcome::kOverloaded};
  }
  return {FailureClass::kRetry, FailureKind::kNetwork, Outcome::kNetworkError};
}

}  // namespace dropd::llm
