#include "dropd/uv/timer.hpp"

#include <optional>

#include <catch2/catch.hpp>

#include "support/loop_fixture.hpp"

using dropd::uv::Timer;
using namespace std::chrono_literals;

TEST_CASE("Timer callback may destroy its own Timer", "[uv]") {
  dropd::test::LoopFixture loop;
  std::optional<Timer> timer{*Timer::create(loop.get())};
  bool fired = false;
  REQUIRE(timer->start(0ms, [&] {
    timer.reset();
    fired = true;
  }));
  loop.runUntil([&] { return fired; });
  CHECK_FALSE(timer.has_value());
}

TEST_CASE("Timer fires once per start and can be restarted from its callback", "[uv]") {
  dropd::test::LoopFixture loop;
  Timer timer = *Timer::create(loop.get());
  int fired = 0;
  std::function<void()> again = [&] {
    ++fired;
    if (fired < 3) {
      REQUIRE(timer.start(1ms, again));
    }
  };
  REQUIRE(timer.start(1ms, again));
  loop.runUntil([&] { return fired == 3; });
  CHECK_FALSE(timer.active());
}

TEST_CASE("Timer stopped or closed before its deadline never fires", "[uv]") {
  dropd::test::LoopFixture loop;
  Timer timer = *Timer::create(loop.get());
  Timer marker = *Timer::create(loop.get());
  bool fired = false;
  bool marker_fired = false;
  REQUIRE(timer.start(5ms, [&] { fired = true; }));
  REQUIRE(marker.start(20ms, [&] { marker_fired = true; }));
  SECTION("stop") { timer.stop(); }
  SECTION("close") { timer.close(); }
  SECTION("move-assign over it") { timer = *Timer::create(loop.get()); }
  loop.runUntil([&] { return marker_fired; });
  CHECK_FALSE(fired);
}

TEST_CASE("Repeating Timer runs until stopped from its callback", "[uv]") {
  dropd::test::LoopFixture loop;
  Timer timer = *Timer::create(loop.get());
  int ticks = 0;
  REQUIRE(timer.startRepeat(1ms, 1ms, [&] {
    if (++ticks == 4) {
      timer.stop();
    }
  }));
  loop.runUntil([&] { return ticks == 4; });
  CHECK_FALSE(timer.active());
}

TEST_CASE("Moved Timer keeps its callback", "[uv]") {
  dropd::test::LoopFixture loop;
  Timer first = *Timer::create(loop.get());
  bool fired = false;
  REQUIRE(first.start(1ms, [&] { fired = true; }));
  Timer second{std::move(first)};
  loop.runUntil([&] { return fired; });
}
