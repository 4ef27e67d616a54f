#include "dropd/throttle/token_bucket.hpp"

#include <catch2/catch.hpp>

#include "support/manual_clock.hpp"

using namespace std::chrono_literals;
using dropd::throttle::TokenBucket;

TEST_CASE("TokenBucket starts with one second's worth, not a minute's", "[throttle]") {
  dropd::test::ManualClock clock;
  SECTION("600 per minute: 10 now, the 11th waits 100 ms") {
    TokenBucket bucket({.per_minute = 600}, clock);
    CHECK(bucket.capacity() == 10);
    for (int i = 0; i < 10; ++i) {
      REQUIRE(bucket.tryTake(1).allowed);
    }
    const auto take = bucket.tryTake(1);
    CHECK_FALSE(take.allowed);
    CHECK(take.wait == 100ms);
  }
  SECTION("a slow rate still allows one at once") {
    TokenBucket bucket({.per_minute = 6}, clock);
    CHECK(bucket.capacity() == 1);
    CHECK(bucket.tryTake(1).allowed);
    CHECK(bucket.tryTake(1).wait == 10s);
  }
  SECTION("a configured burst caps the capacity but the start stays small") {
    TokenBucket bucket({.per_minute = 600, .burst = 100}, clock);
    CHECK(bucket.capacity() == 100);
    CHECK(bucket.level() == Approx(10));
    clock.advance(60s);
    CHECK(bucket.level() == Approx(100));
  }
}

TEST_CASE("TokenBucket refills continuously up to its capacity", "[throttle]") {
  dropd::test::ManualClock clock;
  TokenBucket bucket({.per_minute = 60}, clock);  // 1 per second, capacity 1
  REQUIRE(bucket.tryTake(1).allowed);
  CHECK_FALSE(bucket.tryTake(1).allowed);
  SECTION("half an interval is not enough") {
    clock.advance(500ms);
    const auto take = bucket.tryTake(1);
    CHECK_FALSE(take.allowed);
    CHECK(take.wait == 500ms);
  }
  SECTION("one interval gives one back") {
    clock.advance(1s);
    CHECK(bucket.tryTake(1).allowed);
    CHECK_FALSE(bucket.tryTake(1).allowed);
  }
  SECTION("a long idle time does not build a burst past the capacity") {
    clock.advance(1h);
    CHECK(bucket.level() == Approx(1));
    CHECK(bucket.tryTake(1).allowed);
    CHECK_FALSE(bucket.tryTake(1).allowed);
  }
  SECTION("a refused take takes nothing") {
    clock.advance(999ms);
    CHECK_FALSE(bucket.tryTake(1).allowed);
    clock.advance(1ms);
    CHECK(bucket.tryTake(1).allowed);
  }
}

TEST_CASE("TokenBucket lets a take above its capacity through when full, into debt", "[throttle]") {
  dropd::test::ManualClock clock;
  TokenBucket bucket({.per_minute = 6000}, clock);  // 100/s, capacity 100
  const auto big = bucket.tryTake(1000);
  REQUIRE(big.allowed);
  CHECK(bucket.level() == Approx(-900));
  // Debt is paid at the rate: 900 back to 0, then 100 more for the next full take.
  CHECK(bucket.tryTake(1000).wait == 10s);
  CHECK(bucket.tryTake(50).wait == 9500ms);
}

TEST_CASE("TokenBucket with rate 0 is unlimited", "[throttle]") {
  dropd::test::ManualClock clock;
  TokenBucket bucket({}, clock);
  CHECK(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(bucket.tryTake(1000000).allowed);
  }
  SECTION("only a server's hold makes it wait") {
    bucket.limitTo(0, clock.now() + 300ms);
    CHECK(bucket.tryTake(1).wait == 300ms);
    clock.advance(300ms);
    CHECK(bucket.tryTake(1).allowed);
  }
}

TEST_CASE("TokenBucket charge and refund correct an estimate", "[throttle]") {
  dropd::test::ManualClock clock;
  TokenBucket bucket({.per_minute = 60000}, clock);  // 1000/s, capacity 1000
  REQUIRE(bucket.tryTake(800).allowed);
  SECTION("refund gives unused tokens back") {
    bucket.refund(300);
    CHECK(bucket.level() == Approx(500));
  }
  SECTION("refund never fills past the capacity") {
    bucket.refund(5000);
    CHECK(bucket.level() == Approx(1000));
  }
  SECTION("charge takes more, into debt") {
    bucket.charge(700);
    CHECK(bucket.level() == Approx(-500));
    CHECK(bucket.tryTake(1).wait == 501ms);
  }
}

TEST_CASE("TokenBucket limitTo only lowers and holds refills", "[throttle]") {
  dropd::test::ManualClock clock;
  TokenBucket bucket({.per_minute = 600}, clock);  // 10/s, capacity 10
  SECTION("a remaining above the level changes nothing") {
    bucket.limitTo(1000, clock.now());
    CHECK(bucket.level() == Approx(10));
  }
  SECTION("a remaining below the level lowers it") {
    bucket.limitTo(2, clock.now());
    CHECK(bucket.tryTake(2).allowed);
    CHECK_FALSE(bucket.tryTake(1).allowed);
  }
  SECTION("a hold stops refills until it ends") {
    bucket.limitTo(0, clock.now() + 1s);
    clock.advance(900ms);
    CHECK(bucket.level() == Approx(0));
    CHECK(bucket.tryTake(1).wait == 200ms);  // 100 ms of hold + one 100 ms interval
    clock.advance(200ms);
    CHECK(bucket.tryTake(1).allowed);
  }
}

TEST_CASE("TokenBucket treats odd configurations sanely", "[throttle]") {
  dropd::test::ManualClock clock;
  SECTION("negative and NaN rates are unlimited") {
    CHECK(TokenBucket({.per_minute = -5}, clock).unlimited());
    CHECK(TokenBucket({.per_minute = std::nan("")}, clock).unlimited());
  }
  SECTION("a burst below 1 is raised to 1") {
    TokenBucket bucket({.per_minute = 60, .burst = 0.1}, clock);
    CHECK(bucket.capacity() == 1);
    CHECK(bucket.tryTake(1).allowed);
  }
  SECTION("a huge take against a tiny rate gives a finite wait") {
    TokenBucket bucket({.per_minute = 1e-9}, clock);
    REQUIRE(bucket.tryTake(1).allowed);
    CHECK(bucket.tryTake(1).wait > 24h);
  }
}
