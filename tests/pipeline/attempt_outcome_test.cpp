#include "dropd/pipeline/attempt_outcome.hpp"

#include <catch2/catch.hpp>

using dropd::llm::Failure;
using dropd::llm::FailureClass;
using dropd::pipeline::attemptOutcome;
using dropd::throttle::Outcome;

namespace {

Failure http(int status, FailureClass cls = FailureClass::kRetry) {
  return {cls, "http", status, "HTTP " + std::to_string(status)};
}

}  // namespace

TEST_CASE("attemptOutcome sorts attempts the way the limiter counts them", "[pipeline]") {
  SECTION("success") { CHECK(attemptOutcome(nullptr) == Outcome::kSuccess); }
  SECTION("auth and quota errors pause the endpoint") {
    const Failure f401 = http(401, FailureClass::kPauseEndpoint);
    const Failure f403 = http(403, FailureClass::kPauseEndpoint);
    const Failure quota = http(429, FailureClass::kPauseEndpoint);
    CHECK(attemptOutcome(&f401) == Outcome::kRejected);
    CHECK(attemptOutcome(&f403) == Outcome::kRejected);
    CHECK(attemptOutcome(&quota) == Outcome::kRejected);
  }
  SECTION("no HTTP answer") {
    const Failure timeout{FailureClass::kRetry, "timeout", 0, "timed out"};
    const Failure network{FailureClass::kRetry, "network", 0, "connection refused"};
    const Failure odd{FailureClass::kRetry, "", 0, ""};
    CHECK(attemptOutcome(&timeout) == Outcome::kOverloaded);
    CHECK(attemptOutcome(&network) == Outcome::kNetworkError);
    CHECK(attemptOutcome(&odd) == Outcome::kNetworkError);
  }
  SECTION("a 429 rate limit") {
    const Failure f = http(429);
    CHECK(attemptOutcome(&f) == Outcome::kRateLimited);
  }
  SECTION("overload and server errors") {
    for (const int status : {408, 503}) {
      const Failure f = http(status);
      CHECK(attemptOutcome(&f) == Outcome::kOverloaded);
    }
    for (const int status : {500, 502, 504, 599}) {
      const Failure f = http(status);
      CHECK(attemptOutcome(&f) == Outcome::kServerError);
    }
  }
  SECTION("the file's own errors come from a healthy server") {
    for (const int status : {400, 404, 409, 413, 422, 499}) {
      const Failure f = http(status, FailureClass::kFailFile);
      CHECK(attemptOutcome(&f) == Outcome::kClientError);
    }
    const Failure context{FailureClass::kFailFile, "context_length", 400, "too long"};
    CHECK(attemptOutcome(&context) == Outcome::kClientError);
    const Failure too_large{FailureClass::kFailFile, "response_too_large", 0,
                            "response body over max_response_bytes (67108864): Content-Length 1"};
    CHECK(attemptOutcome(&too_large) == Outcome::kClientError);
  }
  SECTION("a garbled 2xx and junk statuses count against the endpoint") {
    const Failure garbled{FailureClass::kRetry, "bad_response", 200, "not JSON"};
    CHECK(attemptOutcome(&garbled) == Outcome::kServerError);
    for (const int status : {-1, 1, 100, 302, 600, 99999}) {
      const Failure f = http(status);
      CHECK(attemptOutcome(&f) == Outcome::kServerError);
    }
  }
}
