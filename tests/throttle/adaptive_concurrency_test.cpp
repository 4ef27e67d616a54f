#include "dropd/throttle/adaptive_concurrency.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "support/manual_clock.hpp"

using namespace std::chrono_literals;
using dropd::throttle::AdaptiveConcurrency;

namespace {

// One window: a request starts with `in_flight` in flight, the clock moves by
// `rtt`, and its answer arrives.
void window(dropd::test::ManualClock& clock, AdaptiveConcurrency& aimd, std::uint32_t in_flight,
            std::chrono::milliseconds rtt, bool back_pressure = false) {
  aimd.onRequestStart(in_flight);
  clock.advance(rtt);
  aimd.onResponse(rtt, back_pressure);
}

}  // namespace

TEST_CASE("AdaptiveConcurrency adds one per window while the limit is reached and RTT is steady",
          "[throttle]") {
  dropd::test::ManualClock clock;
  AdaptiveConcurrency aimd({.max_limit = 5, .initial_limit = 1}, clock);
  CHECK(aimd.limit() == 1);
  window(clock, aimd, 1, 100ms);  // seeds the average: no change yet
  CHECK(aimd.limit() == 1);
  CHECK(aimd.pastRttMean() == 100ms);
  const std::uint32_t expected[] = {2, 3, 4, 5, 5, 5};
  for (const std::uint32_t limit : expected) {
    window(clock, aimd, aimd.limit(), 100ms);
    CHECK(aimd.limit() == limit);
  }
  SECTION("no increase while the limit is not reached") {
    AdaptiveConcurrency idle({.max_limit = 5, .initial_limit = 2}, clock);
    for (int i = 0; i < 10; ++i) {
      window(clock, idle, 1, 100ms);
    }
    CHECK(idle.limit() == 2);
  }
  SECTION("RTT rising over a steady mean is congestion: no increase, a cut") {
    AdaptiveConcurrency slow({.max_limit = 5, .initial_limit = 2}, clock);
    for (int i = 0; i < 10; ++i) {
      window(clock, slow, 2, std::chrono::milliseconds(100 + i));
    }
    CHECK(slow.limit() == 1);
  }
}

TEST_CASE("AdaptiveConcurrency cuts by 10% on back pressure, never below 1", "[throttle]") {
  dropd::test::ManualClock clock;
  AdaptiveConcurrency aimd({.max_limit = 100, .initial_limit = 20}, clock);
  window(clock, aimd, 20, 100ms);
  const std::uint32_t expected[] = {18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 1};
  for (const std::uint32_t limit : expected) {
    window(clock, aimd, aimd.limit(), 100ms, true);
    CHECK(aimd.limit() == limit);
  }
  SECTION("a burst of 429s inside one window counts once") {
    AdaptiveConcurrency burst({.max_limit = 100, .initial_limit = 50}, clock);
    window(clock, burst, 50, 100ms);
    for (int i = 0; i < 30; ++i) {
      burst.onResponse(1ms, true);  // all before the window ends
    }
    CHECK(burst.limit() == 50);
    clock.advance(100ms);
    burst.onResponse(1ms, true);
    CHECK(burst.limit() == 45);
  }
  SECTION("back pressure before any RTT is known waits for the first success") {
    AdaptiveConcurrency fresh({.max_limit = 10, .initial_limit = 4}, clock);
    fresh.onResponse(0ms, true);
    CHECK(fresh.limit() == 4);
  }
}

TEST_CASE("AdaptiveConcurrency cuts when RTT jumps past mean + 2.5 sigma", "[throttle]") {
  dropd::test::ManualClock clock;
  AdaptiveConcurrency aimd({.max_limit = 100, .initial_limit = 10}, clock);
  // Jittery but stable: 90/110 ms, never reaching the limit.
  for (int i = 0; i < 20; ++i) {
    window(clock, aimd, 1, i % 2 == 0 ? 90ms : 110ms);
  }
  const std::uint32_t before = aimd.limit();  // the first 110 ms over a steady 90 ms cut once
  window(clock, aimd, 1, 100ms);              // at the mean
  CHECK(aimd.limit() == before);
  window(clock, aimd, 1, 400ms);  // far outside it
  CHECK(aimd.limit() == before * 9 / 10);
}

TEST_CASE("AdaptiveConcurrency keeps odd settings in bounds", "[throttle]") {
  dropd::test::ManualClock clock;
  AdaptiveConcurrency aimd(
      {.max_limit = 0, .initial_limit = 7, .decrease_ratio = 3, .ewma_alpha = -1}, clock);
  CHECK(aimd.limit() == 1);
  for (int i = 0; i < 5; ++i) {
    window(clock, aimd, 1, 10ms);
  }
  CHECK(aimd.limit() == 1);
}

namespace {

// Vector's ARC harness in miniature (src/sinks/util/adaptive_concurrency/
// tests.rs): a server whose latency is flat up to `knee` requests in flight
// and grows past it, and a client with an endless backlog that keeps
// limit() requests in flight. Returns the limit after each response.
struct KneeServer {
  std::uint32_t knee = 10;
  std::chrono::milliseconds base{50};
  double knee_exp = 1.1;         // latency x knee_exp per request past the knee
  double jitter = 0;             // latency x uniform(1 - jitter, 1 + jitter)
  bool defer_past_knee = false;  // 429 past the knee instead of slowing down
};

std::vector<std::uint32_t> simulate(const KneeServer& server, int responses) {
  dropd::test::ManualClock clock;
  AdaptiveConcurrency aimd({.max_limit = 100, .initial_limit = 1}, clock);
  std::mt19937_64 rng{1234};
  std::uniform_real_distribution<double> jitter(1 - server.jitter, 1 + server.jitter);
  struct InFlight {
    dropd::MonoTime done;
    std::chrono::nanoseconds rtt;
    bool deferred;
    bool operator>(const InFlight& other) const { return done > other.done; }
  };
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> in_flight;
  std::vector<std::uint32_t> limits;
  while (static_cast<int>(limits.size()) < responses) {
    while (in_flight.size() < aimd.limit()) {
      const auto n = static_cast<std::uint32_t>(in_flight.size() + 1);
      aimd.onRequestStart(n);
      const bool past_knee = n > server.knee;
      const double load = past_knee && !server.defer_past_knee
                              ? std::pow(server.knee_exp, static_cast<double>(n - server.knee))
                              : 1.0;
      const auto rtt =
          std::chrono::duration_cast<std::chrono::nanoseconds>(server.base * load * jitter(rng));
      in_flight.push({clock.now() + rtt, rtt, past_knee && server.defer_past_knee});
    }
    const InFlight next = in_flight.top();
    in_flight.pop();
    clock.advance(next.done - clock.now());
    aimd.onResponse(next.rtt, next.deferred);
    limits.push_back(aimd.limit());
  }
  return limits;
}

double meanOf(const std::vector<std::uint32_t>& limits) {
  double sum = 0;
  for (const std::uint32_t limit : limits) {
    sum += limit;
  }
  return limits.empty() ? 0 : sum / static_cast<double>(limits.size());
}

}  // namespace

TEST_CASE("AdaptiveConcurrency settles near a server's concurrency knee", "[throttle]") {
  KneeServer server;
  const auto settled = [](const std::vector<std::uint32_t>& limits) {
    return std::vector<std::uint32_t>(limits.begin() + limits.size() / 2, limits.end());
  };
  SECTION("latency grows 10% per request past the knee (Vector's shallow-knee)") {
    const auto limits = settled(simulate(server, 5000));
    CHECK(meanOf(limits) >= server.knee - 1);
    CHECK(meanOf(limits) <= server.knee + 2);
    CHECK(*std::max_element(limits.begin(), limits.end()) <= server.knee + 2);
  }
  SECTION("the server answers 429 past the knee") {
    server.defer_past_knee = true;
    server.jitter = 0.1;
    const auto limits = settled(simulate(server, 5000));
    CHECK(meanOf(limits) >= 0.6 * server.knee);
    CHECK(meanOf(limits) <= server.knee + 2);
  }
  SECTION("a flat link lets the limit climb to its max") {
    server.knee = 1000;
    const auto limits = simulate(server, 5000);
    CHECK(limits.back() == 100);
  }
}
