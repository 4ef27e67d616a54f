#include "dropd/throttle/fleet_share.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include <catch2/catch.hpp>

#include "dropd/throttle/endpoint_limiter.hpp"

#include "support/manual_clock.hpp"

using namespace std::chrono_literals;
using dropd::throttle::fleetShare;

TEST_CASE("fleetShare splits a limit over the live instances, rounded up", "[throttle]") {
  CHECK(fleetShare(600, 1) == 600);
  CHECK(fleetShare(600, 3) == 200);
  CHECK(fleetShare(600, 7) == 86);  // 85.7: the fleet may go 2 over, never under
  CHECK(fleetShare(2, 5) == 1);     // at least 1: never 0, which means unlimited
  SECTION("no limit stays no limit") {
    CHECK(fleetShare(0, 3) == 0);
    CHECK(fleetShare(-5, 3) == 0);
    CHECK(fleetShare(std::numeric_limits<double>::quiet_NaN(), 3) == 0);
    CHECK(fleetShare(std::numeric_limits<double>::infinity(), 3) == 0);
  }
  SECTION("0 instances count as this one") { CHECK(fleetShare(600, 0) == 600); }
  SECTION("a huge fleet still leaves 1 each") { CHECK(fleetShare(600, UINT32_MAX) == 1); }
}

TEST_CASE("EndpointLimiter paces its share of the RPM once shared", "[throttle]") {
  dropd::test::ManualClock clock;
  dropd::throttle::LimiterConfig config;
  config.max_in_flight = 1000;
  config.requests.per_minute = 600;
  config.tokens.per_minute = 60000;
  dropd::throttle::EndpointLimiter limiter(config, clock);
  const auto sent_in = [&](std::chrono::seconds span) {
    int sent = 0;
    for (auto t = 0ms; t < span; t += 10ms) {
      while (limiter.acquire(1).allowed) {
        ++sent;
      }
      clock.advance(10ms);
    }
    return sent;
  };
  const int alone = sent_in(10s);
  limiter.shareWith(3);
  CHECK(limiter.sharedWith() == 3);
  CHECK(limiter.requestBucket().capacity() == Approx(200.0 / 60));
  CHECK(limiter.tokenBucket().capacity() == Approx(20000.0 / 60));  // TPM split the same way
  const int shared = sent_in(10s);
  limiter.shareWith(1);
  const int again = sent_in(10s);
  CHECK(alone == Approx(110).margin(2));  // a second's burst, then 10/s
  CHECK(shared == Approx(33).margin(2));  // 200 a minute
  CHECK(again == Approx(100).margin(2));  // the whole limit back, without a burst of credit
}
