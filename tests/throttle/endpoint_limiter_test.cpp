#include "dropd/throttle/endpoint_limiter.hpp"

#include <catch2/catch.hpp>

#include "support/manual_clock.hpp"

using namespace std::chrono_literals;
using namespace dropd::throttle;

namespace {

RateLimitHints hints(std::optional<std::uint64_t> remaining_requests,
                     std::optional<std::chrono::milliseconds> reset_requests,
                     std::optional<std::uint64_t> remaining_tokens = std::nullopt,
                     std::optional<std::chrono::milliseconds> reset_tokens = std::nullopt) {
  return {remaining_requests, remaining_tokens, reset_requests, reset_tokens};
}

// Acquires and releases at once, as a request that took no time.
bool sendOne(EndpointLimiter& limiter, std::uint64_t tokens = 1) {
  const Decision d = limiter.acquire(tokens);
  if (d.allowed) {
    limiter.onOutcome(Outcome::kSuccess, 0ns);
    limiter.release();
  }
  return d.allowed;
}

}  // namespace

TEST_CASE("EndpointLimiter hands out max_in_flight slots", "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter({.max_in_flight = 2}, clock);
  REQUIRE(limiter.acquire(10).allowed);
  REQUIRE(limiter.acquire(10).allowed);
  const Decision full = limiter.acquire(10);
  CHECK_FALSE(full.allowed);
  CHECK(full.blocked_by == BlockedBy::kSlots);
  CHECK_FALSE(full.retry_at);  // wait for a release
  CHECK(toString(full.blocked_by) == "slots");
  limiter.release();
  CHECK(limiter.inFlight() == 1);
  CHECK(limiter.acquire(10).allowed);
}

TEST_CASE("EndpointLimiter enforces RPM with a one-second burst", "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter({.max_in_flight = 100, .requests = {.per_minute = 600}}, clock);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(sendOne(limiter));
  }
  const Decision d = limiter.acquire(1);
  CHECK(d.blocked_by == BlockedBy::kRpm);
  CHECK(d.retry_at == clock.now() + 100ms);
  SECTION("over a minute it sends the rate, not more") {
    int sent = 0;
    for (int ms = 0; ms < 60000; ms += 10) {
      clock.advance(10ms);
      while (sendOne(limiter)) {
        ++sent;
      }
    }
    CHECK(sent == 600);
  }
}

TEST_CASE("EndpointLimiter charges TPM with the estimate and corrects it with usage",
          "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter({.max_in_flight = 100, .tokens = {.per_minute = 60000}}, clock);
  REQUIRE(limiter.acquire(800).allowed);  // 1000 available at the start
  const Decision d = limiter.acquire(800);
  CHECK(d.blocked_by == BlockedBy::kTpm);
  CHECK(d.retry_at == clock.now() + 600ms);
  SECTION("a smaller actual usage refunds the difference") {
    limiter.onResponse(800, 200);
    CHECK(limiter.acquire(800).allowed);
  }
  SECTION("a larger actual usage charges the difference") {
    limiter.onResponse(800, 1500);
    CHECK(limiter.tokenBucket().level() == Approx(-500));  // 200 left - 700 more
  }
  SECTION("no usage in the answer keeps the estimate") {
    limiter.onResponse(800, std::nullopt);
    CHECK(limiter.tokenBucket().level() == Approx(200));
  }
  SECTION("a refusal by TPM takes no request from RPM") {
    EndpointLimiter both({.requests = {.per_minute = 600}, .tokens = {.per_minute = 60}}, clock);
    CHECK(both.acquire(1).allowed);
    CHECK(both.acquire(1).blocked_by == BlockedBy::kTpm);
    CHECK(both.requestBucket().level() == Approx(9));
  }
}

TEST_CASE("EndpointLimiter follows sane rate-limit headers and ignores the rest", "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter(
      {.max_in_flight = 100, .requests = {.per_minute = 600}, .tokens = {.per_minute = 60000}},
      clock);
  SECTION("remaining below our level lowers it") {
    limiter.onRateLimitHeaders(hints(2, 30s));
    CHECK(sendOne(limiter));
    CHECK(sendOne(limiter));
    CHECK(limiter.acquire(1).blocked_by == BlockedBy::kRpm);
  }
  SECTION("remaining 0 with a reset holds for min(reset, max_hint_hold)") {
    limiter.onRateLimitHeaders(hints(0, 300ms));
    CHECK(limiter.acquire(1).retry_at == clock.now() + 400ms);  // hold + one 100 ms interval
    limiter.onRateLimitHeaders(hints(std::nullopt, std::nullopt, 0, 6min));
    const Decision d = limiter.acquire(1);
    CHECK(d.blocked_by == BlockedBy::kRpm);
    clock.advance(400ms);
    const Decision tokens = limiter.acquire(1);
    CHECK(tokens.blocked_by == BlockedBy::kTpm);
    CHECK(tokens.retry_at == clock.now() + 601ms);  // a 1 s hold, then 1 ms per token
  }
  SECTION("Azure's 0 with no reset does not stall") {
    limiter.onRateLimitHeaders(hints(0, std::nullopt, 0, std::nullopt));
    CHECK(sendOne(limiter));
    limiter.onRateLimitHeaders(hints(0, 0ms, 0, 0ms));
    CHECK(sendOne(limiter));
  }
  SECTION("missing or -1 headers (parsed to nothing) change nothing") {
    limiter.onRateLimitHeaders(parseRateLimitHeaders("-1", "-1", std::nullopt, "junk"));
    for (int i = 0; i < 10; ++i) {
      CHECK(sendOne(limiter));
    }
  }
  SECTION("a huge remaining does not let us flood") {
    limiter.onRateLimitHeaders(hints(1000000, 1s, 1000000, 1s));
    int sent = 0;
    while (sendOne(limiter)) {
      ++sent;
    }
    CHECK(sent == 10);
  }
  SECTION("a huge reset is capped at max_hint_hold") {
    limiter.onRateLimitHeaders(hints(0, 24h));
    clock.advance(1100ms);
    CHECK(sendOne(limiter));
  }
}

TEST_CASE("EndpointLimiter honours Retry-After in full", "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter({.breaker = {.max_backoff = 60s}}, clock);
  limiter.onRetryAfter(120s);  // longer than max_backoff: honoured
  const Decision d = limiter.acquire(1);
  CHECK(d.blocked_by == BlockedBy::kPaused);
  CHECK(d.retry_at == clock.now() + 120s);
  limiter.onRetryAfter(5s);  // a shorter one does not cut it short
  clock.advance(119s);
  CHECK_FALSE(limiter.acquire(1).allowed);
  clock.advance(1s);
  CHECK(limiter.acquire(1).allowed);
  limiter.onRetryAfter(-5s);
  CHECK(limiter.acquire(1).allowed);
}

TEST_CASE("EndpointLimiter pauses for auth, then probes one at a time", "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter({.max_in_flight = 4}, clock);
  REQUIRE(limiter.acquire(1).allowed);  // in flight when the 401 arrives
  limiter.onOutcome(Outcome::kRejected, 10ms);
  limiter.release();
  limiter.pauseUntil(clock.now() + 30s, "401 Unauthorized");
  CHECK(limiter.paused());
  CHECK(limiter.pauseReason() == "401 Unauthorized");
  CHECK(limiter.acquire(1).retry_at == clock.now() + 30s);
  clock.advance(30s);
  REQUIRE(limiter.acquire(1).allowed);  // the probe
  const Decision second = limiter.acquire(1);
  CHECK(second.blocked_by == BlockedBy::kPaused);
  CHECK_FALSE(second.retry_at);
  SECTION("a rejected probe: the caller pauses again") {
    limiter.onOutcome(Outcome::kRejected, 10ms);
    limiter.release();
    limiter.pauseUntil(clock.now() + 30s, "401 Unauthorized");
    CHECK_FALSE(limiter.acquire(1).allowed);
  }
  SECTION("a good answer ends the pause") {
    limiter.onOutcome(Outcome::kSuccess, 10ms);
    limiter.release();
    CHECK_FALSE(limiter.paused());
    CHECK(limiter.pauseReason().empty());
    for (int i = 0; i < 4; ++i) {
      CHECK(limiter.acquire(1).allowed);
    }
  }
}

TEST_CASE("EndpointLimiter opens its breaker on failures, not on 429s or 4xx", "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter(
      {.max_in_flight = 10, .breaker = {.failure_threshold = 3, .initial_backoff = 2s}}, clock);
  const auto fail = [&](Outcome outcome) {
    REQUIRE(limiter.acquire(1).allowed);
    limiter.onOutcome(outcome, 5ms);
    limiter.release();
  };
  fail(Outcome::kRateLimited);
  fail(Outcome::kClientError);
  fail(Outcome::kNetworkError);
  fail(Outcome::kServerError);
  CHECK(limiter.breaker().state() == BreakerState::kClosed);
  clock.advance(1s);  // the 429 emptied the RPM bucket: not the point here
  fail(Outcome::kOverloaded);
  CHECK(limiter.breaker().state() == BreakerState::kOpen);
  const Decision d = limiter.acquire(1);
  CHECK(d.blocked_by == BlockedBy::kBreaker);
  CHECK(d.retry_at == clock.now() + 2s);
  clock.advance(2s);
  REQUIRE(limiter.acquire(1).allowed);  // the probe
  const Decision waiting = limiter.acquire(1);
  CHECK(waiting.blocked_by == BlockedBy::kBreaker);
  CHECK_FALSE(waiting.retry_at);
  limiter.onOutcome(Outcome::kSuccess, 5ms);
  limiter.release();
  CHECK(limiter.breaker().state() == BreakerState::kClosed);
}

TEST_CASE("EndpointLimiter with adaptive concurrency starts at 1 and reacts to 429s",
          "[throttle]") {
  dropd::test::ManualClock clock;
  EndpointLimiter limiter({.max_in_flight = 8, .adaptive = true}, clock);
  CHECK(limiter.concurrencyLimit() == 1);
  // Steady 100 ms answers with the limit reached: +1 per window up to 8.
  for (int i = 0; i < 20; ++i) {
    std::uint32_t started = 0;
    while (limiter.acquire(1).allowed) {
      ++started;
    }
    clock.advance(100ms);
    for (std::uint32_t j = 0; j < started; ++j) {
      limiter.onOutcome(Outcome::kSuccess, 100ms);
      limiter.release();
    }
  }
  CHECK(limiter.concurrencyLimit() == 8);
  REQUIRE(limiter.acquire(1).allowed);
  clock.advance(100ms);
  limiter.onOutcome(Outcome::kRateLimited, 100ms);
  limiter.release();
  CHECK(limiter.concurrencyLimit() == 7);
}

namespace {

// A clock that moves forward a little on every reading, as a real one does
// between two calls.
class TickingClock final : public dropd::Clock {
 public:
  [[nodiscard]] dropd::MonoTime now() const override {
    mono_ += 1us;
    return mono_;
  }
  [[nodiscard]] dropd::WallTime wallNow() const override { return {}; }

 private:
  mutable dropd::MonoTime mono_{std::chrono::hours(1)};
};

}  // namespace

TEST_CASE("EndpointLimiter grants with a clock that moves between readings", "[throttle]") {
  TickingClock clock;
  SECTION("no rate limits") {
    EndpointLimiter limiter({.max_in_flight = 4}, clock);
    CHECK(limiter.acquire(100).allowed);
  }
  SECTION("a bucket with room") {
    EndpointLimiter limiter(
        {.max_in_flight = 4, .requests = {.per_minute = 600}, .tokens = {.per_minute = 60000}},
        clock);
    CHECK(limiter.acquire(100).allowed);
  }
  SECTION("an empty bucket still refuses") {
    EndpointLimiter limiter({.max_in_flight = 4, .requests = {.per_minute = 60}}, clock);
    REQUIRE(limiter.acquire(1).allowed);
    const Decision d = limiter.acquire(1);
    CHECK_FALSE(d.allowed);
    CHECK(d.blocked_by == BlockedBy::kRpm);
  }
}
