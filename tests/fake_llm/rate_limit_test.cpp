#include "dropd/fake_llm/rate_limit.hpp"

#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "support/manual_clock.hpp"

using namespace dropd::fake_llm;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> asMap(const std::vector<dropd::net::Header>& headers) {
  std::map<std::string, std::string> out;
  for (const auto& h : headers) {
    out[h.name] = h.value;
  }
  return out;
}

}  // namespace

TEST_CASE("RateLimiter enforces RPM over short windows with a small burst", "[fake_llm]") {
  dropd::test::ManualClock clock;
  RateLimiter limiter({.rpm = 600}, clock.now());  // 10/s, burst 20
  for (int i = 0; i < 20; ++i) {
    REQUIRE(limiter.admit(0, clock.now()).allowed);
  }
  const Admission refused = limiter.admit(0, clock.now());
  CHECK_FALSE(refused.allowed);
  CHECK(refused.refused_by == "requests");
  CHECK(refused.retry_after == 100ms);
  CHECK(refused.requests.remaining == 0);
  SECTION("the bucket refills at rpm/60 per second") {
    clock.advance(100ms);
    CHECK(limiter.admit(0, clock.now()).allowed);
    CHECK_FALSE(limiter.admit(0, clock.now()).allowed);
  }
  SECTION("a client at the rate gets everything through the minute") {
    int allowed = 0;
    for (int i = 0; i < 580; ++i) {
      clock.advance(100ms);
      allowed += limiter.admit(0, clock.now()).allowed ? 1 : 0;
    }
    CHECK(allowed == 580);
  }
}

TEST_CASE("RateLimiter enforces the sliding minute too", "[fake_llm]") {
  dropd::test::ManualClock clock;
  RateLimiter limiter({.rpm = 60}, clock.now());  // 1/s, burst 2, 60 a minute
  int allowed = 0;
  for (int i = 0; i < 590; ++i) {  // asks 10 times a second for 59 s
    allowed += limiter.admit(0, clock.now()).allowed ? 1 : 0;
    clock.advance(100ms);
  }
  CHECK(allowed == 60);  // 2 of burst + 58 refills
  // At 59 s the bucket has a request again, but the minute is full until
  // the two sent at 0 s leave it.
  const Admission refused = limiter.admit(0, clock.now());
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after == 1s);
  CHECK(refused.requests.remaining == 0);
  clock.advance(1s);
  CHECK(limiter.admit(0, clock.now()).allowed);
}

TEST_CASE("RateLimiter charges tokens and refuses by TPM", "[fake_llm]") {
  dropd::test::ManualClock clock;
  RateLimiter limiter({.rpm = 0, .tpm = 6000}, clock.now());  // 100/s, burst 200
  CHECK(limiter.admit(150, clock.now()).allowed);
  const Admission refused = limiter.admit(100, clock.now());
  CHECK_FALSE(refused.allowed);
  CHECK(refused.refused_by == "tokens");
  CHECK(refused.retry_after == 500ms);
  CHECK(refused.requests.limit == 0);  // no RPM: no request headers
  CHECK(refused.tokens.remaining == 50);
  SECTION("a request larger than the burst passes once the bucket is full") {
    clock.advance(2s);
    CHECK(limiter.admit(1000, clock.now()).allowed);
    CHECK_FALSE(limiter.admit(1, clock.now()).allowed);
  }
  SECTION("a request larger than the whole minute passes only into an empty minute") {
    clock.advance(60s);
    CHECK(limiter.admit(10000, clock.now()).allowed);
  }
}

TEST_CASE("RateLimiter without limits admits everything", "[fake_llm]") {
  dropd::test::ManualClock clock;
  RateLimiter limiter({}, clock.now());
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(limiter.admit(1000000, clock.now()).allowed);
  }
  CHECK(rateLimitHeaders(limiter.admit(1, clock.now())).empty());
  SECTION("setLimits starts fresh windows") {
    limiter.setLimits({.rpm = 60}, clock.now());
    CHECK(limiter.admit(0, clock.now()).allowed);
    CHECK(limiter.admit(0, clock.now()).allowed);
    CHECK_FALSE(limiter.admit(0, clock.now()).allowed);
  }
}

TEST_CASE("rateLimitHeaders are OpenAI's", "[fake_llm]") {
  dropd::test::ManualClock clock;
  RateLimiter limiter({.rpm = 600, .tpm = 60000}, clock.now());
  const auto ok = asMap(rateLimitHeaders(limiter.admit(100, clock.now())));
  CHECK(ok.at("x-ratelimit-limit-requests") == "600");
  CHECK(ok.at("x-ratelimit-remaining-requests") == "19");
  CHECK(ok.at("x-ratelimit-reset-requests") == "1m0s");  // until the minute forgets it
  CHECK(ok.at("x-ratelimit-limit-tokens") == "60000");
  CHECK(ok.at("x-ratelimit-remaining-tokens") == "1900");
  CHECK(ok.count("Retry-After") == 0);
  for (int i = 0; i < 19; ++i) {
    (void)limiter.admit(1, clock.now());
  }
  const auto refused = asMap(rateLimitHeaders(limiter.admit(1, clock.now())));
  CHECK(refused.at("Retry-After") == "1");  // 100 ms, rounded up to a whole second
  CHECK(refused.at("retry-after-ms") == "100");
  CHECK(refused.at("x-ratelimit-remaining-requests") == "0");
}

TEST_CASE("formatGoDuration writes Go's time.Duration form", "[fake_llm]") {
  CHECK(formatGoDuration(0ms) == "0ms");
  CHECK(formatGoDuration(20ms) == "20ms");
  CHECK(formatGoDuration(1s) == "1s");
  CHECK(formatGoDuration(1500ms) == "1.5s");
  CHECK(formatGoDuration(8640ms) == "8.64s");
  CHECK(formatGoDuration(6min) == "6m0s");
  CHECK(formatGoDuration(3723500ms) == "1h2m3.5s");
  CHECK(formatGoDuration(1h) == "1h0m0s");
  CHECK(formatGoDuration(-5ms) == "0ms");
}
