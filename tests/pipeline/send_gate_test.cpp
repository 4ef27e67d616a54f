#include "dropd/pipeline/send_gate.hpp"

#include <chrono>
#include <memory>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "pipeline/scripted_client.hpp"
#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using dropd::pipeline::SendGate;
using dropd::test::failed;
using dropd::test::noAnswer;
using dropd::test::succeeded;
using dropd::throttle::BreakerState;
using namespace std::chrono_literals;

namespace {

dropd::config::Endpoint endpoint() {
  dropd::config::Endpoint e;
  e.name = "test";
  e.limits.max_in_flight = 8;
  e.retry = {.max_attempts = 3, .initial_backoff = 1ms, .max_backoff = 5ms};
  return e;
}

// A SendGate on its own loop and clock; `wakes` counts its timer's calls.
struct Fixture {
  explicit Fixture(const dropd::config::Endpoint& e = endpoint())
      : gate(loop.get(), e, clock, log, [this] { ++wakes; }) {}

  dropd::test::LoopFixture loop;
  dropd::test::ManualClock clock;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  int wakes = 0;
  SendGate gate;
};

}  // namespace

TEST_CASE("SendGate opens the breaker after 5 failures and closes it on success", "[pipeline]") {
  Fixture f;
  const auto& breaker = f.gate.limiter().breaker();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(f.gate.tryAcquire(1));
    f.gate.onAttemptEnd(1, i % 2 == 0 ? failed(503) : noAnswer(dropd::ErrorCode::kSystem));
  }
  CHECK(breaker.state() == BreakerState::kClosed);
  REQUIRE(f.gate.tryAcquire(1));
  f.gate.onAttemptEnd(1, failed(500));
  CHECK(breaker.state() == BreakerState::kOpen);
  CHECK(f.gate.lastError() == "HTTP 500");
  CHECK_FALSE(f.gate.tryAcquire(1));

  SECTION("a probe after initial_backoff closes it again") {
    f.clock.advance(1ms);
    REQUIRE(f.gate.tryAcquire(1));
    CHECK_FALSE(f.gate.tryAcquire(1));  // one probe at a time
    f.gate.onAttemptEnd(1, succeeded());
    CHECK(breaker.state() == BreakerState::kClosed);
    CHECK(f.gate.tryAcquire(1));
    CHECK(f.gate.tryAcquire(1));
  }
  SECTION("the gate's timer wakes the caller once the probe may go") {
    f.loop.runUntil([&] {
      f.clock.advance(1ms);  // the timer runs on the loop; the limiter on this clock
      return f.wakes > 0;
    });
    CHECK(f.gate.tryAcquire(1));
  }
  SECTION("429s and 4xx answers do not count against it") {
    f.clock.advance(1ms);
    REQUIRE(f.gate.tryAcquire(1));
    f.gate.onAttemptEnd(1, succeeded());
    for (const int status : {429, 400, 404, 429, 422, 429}) {
      REQUIRE(f.gate.tryAcquire(1));
      f.gate.onAttemptEnd(1, failed(status));
    }
    CHECK(breaker.state() == BreakerState::kClosed);
  }
}

TEST_CASE("SendGate pauses the endpoint on 401 until a probe is accepted", "[pipeline]") {
  Fixture f;
  REQUIRE(f.gate.tryAcquire(1));
  const auto paused_at = f.clock.now();
  f.gate.onAttemptEnd(1, failed(401));
  REQUIRE(f.gate.pausedUntil().has_value());
  CHECK(*f.gate.pausedUntil() == paused_at + 5ms);  // retry.max_backoff
  CHECK(f.gate.lastError() == "HTTP 401");
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(4ms);
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(1ms);
  REQUIRE(f.gate.tryAcquire(1));      // the probe
  CHECK_FALSE(f.gate.tryAcquire(1));  // alone

  SECTION("a refused probe pauses again") {
    f.gate.onAttemptEnd(1, failed(403));
    CHECK(*f.gate.pausedUntil() == f.clock.now() + 5ms);
    CHECK_FALSE(f.gate.tryAcquire(1));
  }
  SECTION("an accepted probe resumes sending") {
    f.gate.onAttemptEnd(1, succeeded());
    CHECK_FALSE(f.gate.pausedUntil().has_value());
    CHECK(f.gate.tryAcquire(1));
    CHECK(f.gate.tryAcquire(1));
  }
  SECTION("insufficient_quota pauses like a 401") {
    f.gate.onAttemptEnd(1, failed(429, "insufficient_quota"));
    CHECK(f.gate.pausedUntil().has_value());
  }
}

TEST_CASE("SendGate honours a Retry-After longer than max_backoff", "[pipeline]") {
  Fixture f;
  REQUIRE(f.gate.tryAcquire(1));
  auto answer = failed(429);
  answer.retry_after = 30s;
  f.gate.onAttemptEnd(1, answer);
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(5ms);  // max_backoff
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(29s - 5ms);
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(1s);
  CHECK(f.gate.tryAcquire(1));
  CHECK(f.gate.throttleWaitTotal() == 30s);

  SECTION("on a success too") {
    auto ok = succeeded();
    ok.retry_after = 2s;
    f.gate.onAttemptEnd(1, ok);
    CHECK_FALSE(f.gate.tryAcquire(1));
    f.clock.advance(2s);
    CHECK(f.gate.tryAcquire(1));
  }
}

TEST_CASE("SendGate refuses past the RPM bucket and its timer wakes the caller", "[pipeline]") {
  auto e = endpoint();
  e.limits.requests_per_minute = 60'000;  // 1000 a second, one a millisecond
  e.limits.max_in_flight = 2000;
  Fixture f(e);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(f.gate.tryAcquire(1));
  }
  CHECK_FALSE(f.gate.tryAcquire(1));
  CHECK(f.wakes == 0);
  f.clock.advance(1ms);
  f.loop.runUntil([&] { return f.wakes > 0; });
  CHECK(f.wakes == 1);
  CHECK(f.gate.tryAcquire(1));
  CHECK(f.gate.throttleWaitTotal() == 1ms);
}

TEST_CASE("SendGate follows the rate-limit hints an attempt carries", "[pipeline]") {
  auto e = endpoint();
  e.limits.requests_per_minute = 60'000;
  Fixture f(e);
  REQUIRE(f.gate.tryAcquire(1));
  auto ok = succeeded();
  ok.rate_limits.remaining_requests = 0;
  ok.rate_limits.reset_requests = 200ms;
  f.gate.onAttemptEnd(1, ok);
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(199ms);
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.clock.advance(2ms);  // the hold is over and the bucket has refilled one request
  CHECK(f.gate.tryAcquire(1));
}

TEST_CASE("SendGate corrects the TPM charge with the completion's usage", "[pipeline]") {
  auto e = endpoint();
  e.limits.tokens_per_minute = 60'000;  // 1000 a second, the bucket's capacity
  Fixture f(e);
  REQUIRE(f.gate.tryAcquire(900));
  SECTION("a smaller usage refunds the difference") {
    f.gate.onAttemptEnd(900, succeeded(100ms, 100));
    CHECK(f.gate.tryAcquire(800));
  }
  SECTION("a failure keeps the estimate") {
    f.gate.onAttemptEnd(900, failed(500));
    CHECK_FALSE(f.gate.tryAcquire(800));
  }
}

TEST_CASE("SendGate with limits.adaptive raises the limit on successes, cuts it on 429/503",
          "[pipeline]") {
  auto e = endpoint();
  e.limits.adaptive = true;
  Fixture f(e);
  CHECK(f.gate.concurrencyLimit() == 1);
  // Steady 100 ms answers with the limit reached: +1 per window up to 8.
  for (int i = 0; i < 20; ++i) {
    int started = 0;
    while (f.gate.tryAcquire(1)) {
      ++started;
    }
    f.clock.advance(100ms);
    for (int j = 0; j < started; ++j) {
      f.gate.onAttemptEnd(1, succeeded(100ms));
    }
  }
  REQUIRE(f.gate.concurrencyLimit() == 8);
  const auto backPressure = [&](dropd::llm::Attempt attempt) {
    REQUIRE(f.gate.tryAcquire(1));
    f.clock.advance(100ms);
    f.gate.onAttemptEnd(1, std::move(attempt));
  };
  backPressure(failed(429));
  CHECK(f.gate.concurrencyLimit() == 7);  // floor(8 * 0.9)
  backPressure(failed(503));
  CHECK(f.gate.concurrencyLimit() == 6);  // floor(7 * 0.9)
}

TEST_CASE("SendGate releases an abandoned attempt's slot and nothing else", "[pipeline]") {
  auto e = endpoint();
  e.limits.max_in_flight = 1;
  Fixture f(e);
  REQUIRE(f.gate.tryAcquire(1));
  CHECK_FALSE(f.gate.tryAcquire(1));
  f.gate.abandon();
  CHECK(f.gate.lastError().empty());
  CHECK(f.gate.tryAcquire(1));
}
