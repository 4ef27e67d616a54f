#include "dropd/llm/status_class.hpp"

#include <catch2/catch.hpp>

#include "dropd/llm/response.hpp"

using dropd::ErrorCode;
using dropd::llm::classifyAnswer;
using dropd::llm::classifyTransport;
using dropd::llm::FailureClass;
using dropd::llm::FailureKind;
using dropd::llm::readAnswer;
using dropd::throttle::Outcome;

namespace {

Outcome http(int status, std::string_view code = {}) {
  return classifyAnswer(status, code).outcome;
}

constexpr const char* kCompletion =
    R"({"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]})";

}  // namespace

TEST_CASE("The status table sorts attempts the way the limiter counts them", "[llm]") {
  SECTION("success") { CHECK(readAnswer(200, kCompletion).outcome == Outcome::kSuccess); }
  SECTION("auth and quota errors pause the endpoint") {
    CHECK(http(401) == Outcome::kRejected);
    CHECK(http(403) == Outcome::kRejected);
    CHECK(http(429, "insufficient_quota") == Outcome::kRejected);
  }
  SECTION("no HTTP answer") {
    CHECK(classifyTransport(ErrorCode::kTimeout).outcome == Outcome::kOverloaded);
    CHECK(classifyTransport(ErrorCode::kSystem).outcome == Outcome::kNetworkError);
    CHECK(classifyTransport(ErrorCode::kInvalid).outcome == Outcome::kNetworkError);
  }
  SECTION("a 429 rate limit") { CHECK(http(429) == Outcome::kRateLimited); }
  SECTION("overload and server errors") {
    for (const int status : {408, 503}) {
      CHECK(http(status) == Outcome::kOverloaded);
    }
    for (const int status : {500, 502, 504, 599}) {
      CHECK(http(status) == Outcome::kServerError);
    }
  }
  SECTION("the file's own errors come from a healthy server") {
    for (const int status : {400, 404, 409, 413, 422, 499}) {
      CHECK(http(status) == Outcome::kClientError);
    }
    CHECK(http(400, "context_length_exceeded") == Outcome::kClientError);
    CHECK(classifyTransport(ErrorCode::kTooLarge).outcome == Outcome::kClientError);
  }
  SECTION("a garbled 2xx and junk statuses count against the endpoint") {
    CHECK(http(200) == Outcome::kServerError);
    for (const int status : {-1, 1, 100, 302, 600, 99999}) {
      CHECK(http(status) == Outcome::kServerError);
    }
  }
}

TEST_CASE("The status table gives each failure its class and record kind", "[llm]") {
  const auto check = [](dropd::llm::StatusClass got, FailureClass cls, FailureKind kind) {
    CHECK(got.cls == cls);
    CHECK(got.kind == kind);
  };
  SECTION("answers") {
    check(classifyAnswer(401, ""), FailureClass::kPauseEndpoint, FailureKind::kHttp);
    check(classifyAnswer(403, ""), FailureClass::kPauseEndpoint, FailureKind::kHttp);
    check(classifyAnswer(503, "insufficient_quota"), FailureClass::kPauseEndpoint,
          FailureKind::kHttp);
    for (const int status : {408, 409, 429, 500, 503, 600}) {
      check(classifyAnswer(status, ""), FailureClass::kRetry, FailureKind::kHttp);
    }
    for (const int status : {-1, 100, 302, 400, 404, 413, 422}) {
      check(classifyAnswer(status, ""), FailureClass::kFailFile, FailureKind::kHttp);
    }
    check(classifyAnswer(400, "context_length_exceeded"), FailureClass::kFailFile,
          FailureKind::kContextLength);
    check(classifyAnswer(200, ""), FailureClass::kRetry, FailureKind::kBadResponse);
    check(classifyAnswer(299, "insufficient_quota"), FailureClass::kRetry,
          FailureKind::kBadResponse);
  }
  SECTION("2xx answers that are not a usable completion") {
    using dropd::llm::AnswerProblem;
    using dropd::llm::classifyCompletion;
    check(classifyCompletion(AnswerProblem::kNotACompletion), FailureClass::kRetry,
          FailureKind::kBadResponse);
    check(classifyCompletion(AnswerProblem::kRefusal), FailureClass::kFailFile,
          FailureKind::kRefusal);
    check(classifyCompletion(AnswerProblem::kEmpty), FailureClass::kRetry,
          FailureKind::kEmptyAnswer);
    // A server that answers is healthy, whatever the answer says.
    CHECK(classifyCompletion(AnswerProblem::kRefusal).outcome == Outcome::kClientError);
    CHECK(classifyCompletion(AnswerProblem::kEmpty).outcome == Outcome::kClientError);
    CHECK(classifyCompletion(AnswerProblem::kNotACompletion).outcome == Outcome::kServerError);
  }
  SECTION("no answer") {
    check(classifyTransport(ErrorCode::kTimeout), FailureClass::kRetry, FailureKind::kTimeout);
    check(classifyTransport(ErrorCode::kProtocol), FailureClass::kRetry, FailureKind::kNetwork);
    check(classifyTransport(ErrorCode::kTooLarge), FailureClass::kFailFile,
          FailureKind::kResponseTooLarge);
    // A certificate that does not verify is a bad key, not a flaky network.
    check(classifyTransport(ErrorCode::kUntrusted), FailureClass::kPauseEndpoint,
          FailureKind::kNetwork);
    CHECK(classifyTransport(ErrorCode::kUntrusted).outcome == Outcome::kRejected);
    // So is a proxy that refuses our credentials (407).
    check(classifyTransport(ErrorCode::kRejected), FailureClass::kPauseEndpoint,
          FailureKind::kNetwork);
    CHECK(classifyTransport(ErrorCode::kRejected).outcome == Outcome::kRejected);
  }
  SECTION("every kind prints as its record names it") {
    using dropd::llm::toString;
    CHECK(toString(FailureKind::kHttp) == "http");
    CHECK(toString(FailureKind::kBadResponse) == "bad_response");
    CHECK(toString(FailureKind::kContextLength) == "context_length");
    CHECK(toString(FailureKind::kTimeout) == "timeout");
    CHECK(toString(FailureKind::kNetwork) == "network");
    CHECK(toString(FailureKind::kResponseTooLarge) == "response_too_large");
    CHECK(toString(FailureKind::kSkipped) == "skipped");
    CHECK(toString(FailureKind::kRead) == "read");
    CHECK(toString(FailureKind::kOutput) == "output");
    CHECK(toString(FailureKind::kRefusal) == "refusal");
    CHECK(toString(FailureKind::kEmptyAnswer) == "empty_answer");
    CHECK(toString(FailureKind::kStreamError) == "stream_error");
    CHECK(toString(FailureKind::kExtract) == "extract");
  }
}

TEST_CASE("classifyStreamError retries like a 5xx unless the code says otherwise", "[llm]") {
  using dropd::llm::classifyStreamError;
  using dropd::throttle::Outcome;
  CHECK(classifyStreamError("").cls == FailureClass::kRetry);
  CHECK(classifyStreamError("").kind == FailureKind::kStreamError);
  CHECK(classifyStreamError("").outcome == Outcome::kServerError);
  CHECK(classifyStreamError("insufficient_quota").cls == FailureClass::kPauseEndpoint);
  CHECK(classifyStreamError("insufficient_quota").outcome == Outcome::kRejected);
  CHECK(classifyStreamError("context_length_exceeded").cls == FailureClass::kFailFile);
  CHECK(classifyStreamError("context_length_exceeded").kind == FailureKind::kContextLength);
}
