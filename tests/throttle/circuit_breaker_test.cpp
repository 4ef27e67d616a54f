#include "dropd/throttle/circuit_breaker.hpp"

#include <catch2/catch.hpp>

#include "support/manual_clock.hpp"

using namespace std::chrono_literals;
using dropd::throttle::BreakerState;
using dropd::throttle::CircuitBreaker;

namespace {

void fail(CircuitBreaker& breaker, int times) {
  for (int i = 0; i < times; ++i) {
    breaker.onFailure();
  }
}

}  // namespace

TEST_CASE("CircuitBreaker opens after N consecutive failures", "[throttle]") {
  dropd::test::ManualClock clock;
  CircuitBreaker breaker({.failure_threshold = 5, .initial_backoff = 1s, .max_backoff = 8s}, clock);
  CHECK(breaker.state() == BreakerState::kClosed);
  CHECK_FALSE(breaker.nextProbeAt());
  SECTION("four failures leave it closed") {
    fail(breaker, 4);
    CHECK(breaker.state() == BreakerState::kClosed);
    CHECK(breaker.allowRequest());
  }
  SECTION("a success in between resets the count") {
    fail(breaker, 4);
    breaker.onSuccess();
    fail(breaker, 4);
    CHECK(breaker.state() == BreakerState::kClosed);
    CHECK(breaker.consecutiveFailures() == 4);
  }
  SECTION("the fifth opens it for initial_backoff") {
    fail(breaker, 5);
    CHECK(breaker.state() == BreakerState::kOpen);
    CHECK_FALSE(breaker.allowRequest());
    CHECK(breaker.nextProbeAt() == clock.now() + 1s);
    SECTION("late failures while open change nothing") {
      fail(breaker, 10);
      CHECK(breaker.nextProbeAt() == clock.now() + 1s);
    }
  }
}

TEST_CASE("CircuitBreaker half-open lets exactly one probe through", "[throttle]") {
  dropd::test::ManualClock clock;
  CircuitBreaker breaker({.failure_threshold = 2, .initial_backoff = 1s, .max_backoff = 8s}, clock);
  fail(breaker, 2);
  clock.advance(999ms);
  CHECK(breaker.state() == BreakerState::kOpen);
  clock.advance(1ms);
  CHECK(breaker.state() == BreakerState::kHalfOpen);
  CHECK(breaker.wouldAllow());
  REQUIRE(breaker.allowRequest());
  CHECK_FALSE(breaker.wouldAllow());
  CHECK_FALSE(breaker.allowRequest());  // the one probe is out

  SECTION("the probe's success closes it and resets the delay") {
    breaker.onSuccess();
    CHECK(breaker.state() == BreakerState::kClosed);
    CHECK(breaker.allowRequest());
    CHECK(breaker.allowRequest());
    fail(breaker, 2);
    CHECK(breaker.nextProbeAt() == clock.now() + 1s);
  }
  SECTION("each failed probe re-opens with double the delay, capped") {
    const std::chrono::seconds expected[] = {2s, 4s, 8s, 8s, 8s};
    for (const auto delay : expected) {
      breaker.onFailure();
      CHECK(breaker.state() == BreakerState::kOpen);
      CHECK(breaker.nextProbeAt() == clock.now() + delay);
      clock.advance(delay);
      REQUIRE(breaker.allowRequest());
    }
  }
  SECTION("an abandoned probe frees the turn for another") {
    breaker.onProbeAbandoned();
    CHECK(breaker.state() == BreakerState::kHalfOpen);
    CHECK(breaker.allowRequest());
  }
}

TEST_CASE("CircuitBreaker survives odd configurations and long outages", "[throttle]") {
  dropd::test::ManualClock clock;
  SECTION("threshold 0 acts as 1") {
    CircuitBreaker breaker({.failure_threshold = 0}, clock);
    breaker.onFailure();
    CHECK(breaker.state() == BreakerState::kOpen);
  }
  SECTION("max below initial is raised to initial") {
    CircuitBreaker breaker({.failure_threshold = 1, .initial_backoff = 5s, .max_backoff = 1s},
                           clock);
    breaker.onFailure();
    CHECK(breaker.nextProbeAt() == clock.now() + 5s);
  }
  SECTION("a thousand failed probes do not overflow the delay") {
    CircuitBreaker breaker({.failure_threshold = 1, .initial_backoff = 1s, .max_backoff = 1h},
                           clock);
    breaker.onFailure();
    for (int i = 0; i < 1000; ++i) {
      clock.advance(1h);
      REQUIRE(breaker.allowRequest());
      breaker.onFailure();
    }
    CHECK(breaker.nextProbeAt() == clock.now() + 1h);
  }
}
