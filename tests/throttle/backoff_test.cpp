#include "dropd/throttle/backoff.hpp"

#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using dropd::throttle::backoffDelay;
using dropd::throttle::parseRetryAfterSeconds;

TEST_CASE("backoffDelay grows exponentially within its bounds", "[throttle]") {
  const dropd::throttle::BackoffPolicy policy{1000ms, 60000ms};
  CHECK(backoffDelay(policy, 1, 0.0) == 1000ms);
  CHECK(backoffDelay(policy, 1, 0.999) == 1000ms);  // the first retry's window is [1s, 1s]
  CHECK(backoffDelay(policy, 3, 0.999) <= 4000ms);
  CHECK(backoffDelay(policy, 3, 0.999) > 3900ms);
  CHECK(backoffDelay(policy, 3, 0.0) == 1000ms);
  CHECK(backoffDelay(policy, 40, 0.999) <= 60000ms);
  CHECK(backoffDelay(policy, 4000000000u, 1.0) == 60000ms);

  SECTION("a longer Retry-After wins, even past max") {
    CHECK(backoffDelay(policy, 1, 0.5, 120000ms) == 120000ms);
    CHECK(backoffDelay(policy, 5, 0.5, 10ms) >= 1000ms);
  }
  SECTION("odd inputs give a defined answer") {
    CHECK(backoffDelay(policy, 0, 0.5) == 1000ms);
    CHECK(backoffDelay(policy, 2, std::nan("")) == 1000ms);
    CHECK(backoffDelay({5000ms, 10ms}, 2, 0.5) == 5000ms);  // max below initial
  }
}

TEST_CASE("parseRetryAfterSeconds reads seconds", "[throttle]") {
  CHECK(parseRetryAfterSeconds("2") == 2000ms);
  CHECK(parseRetryAfterSeconds(" 1.5") == 1500ms);
  CHECK(parseRetryAfterSeconds("0") == 0ms);
  CHECK_FALSE(parseRetryAfterSeconds("-1"));
  CHECK_FALSE(parseRetryAfterSeconds("soon"));
  CHECK_FALSE(parseRetryAfterSeconds(""));
}

TEST_CASE("backoffDelay spreads retries over the whole jitter window", "[throttle]") {
  const dropd::throttle::BackoffPolicy policy{1000ms, 60000ms};
  std::mt19937_64 rng{42};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::chrono::milliseconds low{60000};
  std::chrono::milliseconds high{0};
  for (int i = 0; i < 10000; ++i) {
    const auto delay = backoffDelay(policy, 4, unit(rng));  // window [1 s, 8 s]
    REQUIRE(delay >= 1000ms);
    REQUIRE(delay <= 8000ms);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  // Full jitter: both ends of the window are reached, so retries do not bunch.
  CHECK(low < 1100ms);
  CHECK(high > 7900ms);
}

// Found by tests/fuzz/backoff_fuzz.cpp: the config reads durations up to
// INT64_MAX ms, and converting the jittered delay back from a double went
// below `initial` past 2^53 ms and overflowed (undefined behaviour) at 2^63.
TEST_CASE("backoffDelay stays within its bounds for huge policies", "[throttle]") {
  using std::chrono::milliseconds;
  const milliseconds huge = milliseconds::max();
  CHECK(backoffDelay({huge, huge}, 40, 0.999) == huge);
  CHECK(backoffDelay({milliseconds(1LL << 40), huge}, 40, 0.999) <= huge);
  CHECK(backoffDelay({milliseconds(1LL << 40), huge}, 40, 0.999) >= milliseconds(1LL << 40));
  const milliseconds odd{216173788746743811};  // not a double
  CHECK(backoffDelay({odd, odd}, 3, 0.5) == odd);
}
