#include "dropd/ops/give_up_rule.hpp"

#include <chrono>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include "support/manual_clock.hpp"

namespace {

using dropd::MonoTime;
using dropd::ops::defaultGiveUpAfter;
using dropd::ops::EndpointHealth;
using dropd::ops::EndpointWait;
using dropd::ops::nextUnhealthySince;
using dropd::ops::shouldGiveUp;
using dropd::ops::waitedSince;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

// Feeds one look at every endpoint into the wait list, as the Daemon's tick does.
void look(std::vector<EndpointWait>& waits, std::vector<std::optional<MonoTime>>& since,
          const std::vector<EndpointHealth>& health, MonoTime now) {
  for (std::size_t i = 0; i < waits.size(); ++i) {
    since[i] = nextUnhealthySince(since[i], health[i], now);
    waits[i].health = health[i];
    waits[i].unhealthy_since = since[i].value_or(MonoTime{});
  }
}

}  // namespace

TEST_CASE("shouldGiveUp waits for every endpoint with files to be unhealthy past the bound",
          "[ops]") {
  dropd::test::ManualClock clock;
  std::vector<EndpointWait> waits(2);
  std::vector<std::optional<MonoTime>> since(2);
  waits[0].has_files = true;
  const milliseconds bound = 10s;

  SECTION("a paused endpoint is given up on only once the bound has passed") {
    look(waits, since, {EndpointHealth::kPaused, EndpointHealth::kHealthy}, clock.now());
    clock.advance(10s);
    look(waits, since, {EndpointHealth::kPaused, EndpointHealth::kHealthy}, clock.now());
    CHECK_FALSE(shouldGiveUp(waits, false, clock.now(), bound));  // exactly the bound: not longer
    clock.advance(1ms);
    CHECK(shouldGiveUp(waits, false, clock.now(), bound));
    CHECK(waitedSince(waits[0].unhealthy_since, clock.now()) == 10001ms);
  }
  SECTION("paused then down is one spell") {
    look(waits, since, {EndpointHealth::kPaused, EndpointHealth::kHealthy}, clock.now());
    clock.advance(6s);
    look(waits, since, {EndpointHealth::kDown, EndpointHealth::kHealthy}, clock.now());
    clock.advance(6s);
    CHECK(shouldGiveUp(waits, false, clock.now(), bound));
  }
  SECTION("a healthy moment starts the spell again") {
    look(waits, since, {EndpointHealth::kDown, EndpointHealth::kHealthy}, clock.now());
    clock.advance(9s);
    look(waits, since, {EndpointHealth::kHealthy, EndpointHealth::kHealthy}, clock.now());
    look(waits, since, {EndpointHealth::kDown, EndpointHealth::kHealthy}, clock.now());
    clock.advance(9s);
    CHECK_FALSE(shouldGiveUp(waits, false, clock.now(), bound));
    clock.advance(2s);
    CHECK(shouldGiveUp(waits, false, clock.now(), bound));
  }
  SECTION("a healthy endpoint with files keeps the run going") {
    waits[1].has_files = true;
    look(waits, since, {EndpointHealth::kPaused, EndpointHealth::kHealthy}, clock.now());
    clock.advance(1h);
    CHECK_FALSE(shouldGiveUp(waits, false, clock.now(), bound));
    SECTION("until its files are done") {
      waits[1].has_files = false;
      CHECK(shouldGiveUp(waits, false, clock.now(), bound));
    }
    SECTION("or it is unhealthy past the bound too") {
      look(waits, since, {EndpointHealth::kPaused, EndpointHealth::kDown}, clock.now());
      clock.advance(5s);
      CHECK_FALSE(shouldGiveUp(waits, false, clock.now(), bound));
      clock.advance(6s);
      CHECK(shouldGiveUp(waits, false, clock.now(), bound));
    }
  }
  SECTION("an unhealthy endpoint without files does not count") {
    waits[0].has_files = false;
    look(waits, since, {EndpointHealth::kDown, EndpointHealth::kDown}, clock.now());
    clock.advance(1h);
    CHECK_FALSE(shouldGiveUp(waits, false, clock.now(), bound));
  }
  SECTION("records still being committed keep the run going") {
    look(waits, since, {EndpointHealth::kPaused, EndpointHealth::kHealthy}, clock.now());
    clock.advance(1h);
    CHECK_FALSE(shouldGiveUp(waits, true, clock.now(), bound));
  }
}

TEST_CASE("shouldGiveUp is defined at the edges", "[ops]") {
  dropd::test::ManualClock clock;
  const MonoTime now = clock.now();
  SECTION("no endpoints: nothing to give up on") { CHECK_FALSE(shouldGiveUp({}, false, now, 0ms)); }
  EndpointWait paused{true, EndpointHealth::kPaused, now};
  SECTION("a zero or negative bound gives up after any wait at all") {
    CHECK_FALSE(shouldGiveUp({&paused, 1}, false, now, 0ms));
    CHECK_FALSE(shouldGiveUp({&paused, 1}, false, now, -5s));
    clock.advance(1ms);
    CHECK(shouldGiveUp({&paused, 1}, false, clock.now(), -5s));
  }
  SECTION("a spell that starts after now has not waited") {
    paused.unhealthy_since = now + 1h;
    CHECK(waitedSince(paused.unhealthy_since, now) == 0ms);
    CHECK_FALSE(shouldGiveUp({&paused, 1}, false, now, 0ms));
  }
  SECTION("the farthest time points do not overflow") {
    const MonoTime lo = MonoTime::min();
    const MonoTime hi = MonoTime::max();
    CHECK(waitedSince(lo, hi).count() > 0);
    paused.unhealthy_since = lo;
    CHECK(shouldGiveUp({&paused, 1}, false, hi, milliseconds::max()) == false);
    CHECK(shouldGiveUp({&paused, 1}, false, hi, 1h));
  }
}

TEST_CASE("defaultGiveUpAfter is twice the largest max_backoff", "[ops]") {
  SECTION("the largest one wins") {
    const std::vector<milliseconds> backoffs{200ms, 60s, 5s};
    CHECK(defaultGiveUpAfter(backoffs) == 120s);
  }
  SECTION("none, or none positive, is zero") {
    CHECK(defaultGiveUpAfter({}) == 0ms);
    const std::vector<milliseconds> negative{-1s};
    CHECK(defaultGiveUpAfter(negative) == 0ms);
  }
  SECTION("a huge one saturates") {
    const std::vector<milliseconds> huge{milliseconds::max()};
    CHECK(defaultGiveUpAfter(huge) == milliseconds::max());
  }
}

TEST_CASE("shouldGiveUp over 64 endpoints", "[.][bench]") {
  dropd::test::ManualClock clock;
  std::vector<EndpointWait> waits(64, EndpointWait{true, EndpointHealth::kDown, clock.now()});
  clock.advance(1h);
  BENCHMARK("64 endpoints, all down past the bound") {
    return shouldGiveUp(waits, false, clock.now(), 2min);
  };
}
