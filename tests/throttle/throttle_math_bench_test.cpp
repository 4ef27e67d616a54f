// Hidden benchmarks of the throttle module's pure functions: backoff and
// the rate-limit header parsers, which run once per response. Run with
// `test_throttle "[bench]"`.

#include <chrono>

#include <catch2/catch.hpp>

#include "dropd/throttle/backoff.hpp"
#include "dropd/throttle/fleet_share.hpp"
#include "dropd/throttle/rate_limit_headers.hpp"

namespace throttle = dropd::throttle;

TEST_CASE("Backoff and rate-limit header parsing", "[.][bench]") {
  const throttle::BackoffPolicy policy{};
  const dropd::WallTime now{std::chrono::seconds(1445412000)};

  BENCHMARK("backoffDelay") { return throttle::backoffDelay(policy, 7, 0.37); };
  BENCHMARK("fleetShare") { return throttle::fleetShare(10000, 3); };
  BENCHMARK("parseRetryAfterSeconds") { return throttle::parseRetryAfterSeconds("1.5"); };
  BENCHMARK("parseRetryAfter, HTTP-date") {
    return throttle::parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now);
  };
  BENCHMARK("parseResetDuration") { return throttle::parseResetDuration("1h2m3.5s"); };
  BENCHMARK("parseRateLimitHeaders, OpenAI's four") {
    return throttle::parseRateLimitHeaders("59", "149984", "1s", "6m0s");
  };
}
