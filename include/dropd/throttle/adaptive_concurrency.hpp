#pragma once

// Adaptive concurrency limit (AIMD), after Vector's Adaptive Request
// Concurrency (src/sinks/util/adaptive_concurrency/controller.rs; see
// ANCHORS.md §1). Loop thread only; `clock` must outlive it.
//
// The limit stays in 1..max_limit. Responses are grouped in windows about
// one past mean RTT long. At the end of each window:
// - +1 if the limit was reached during the window, there was no back
//   pressure, and the window's mean RTT <= the past mean (EWMA);
// - floor(limit * decrease_ratio), at least 1, if there was back pressure
//   (429, 503, 408, other 5xx, timeouts) or the window's mean RTT
//   >= past mean + rtt_deviation_scale * sqrt(past variance);
// - otherwise unchanged.
// Then the EWMA (mean and variance, ewma_alpha) takes in the window's mean.
// Only successful responses contribute RTTs, as in Vector.
//
// Lowering the limit never cancels requests: callers simply start no new
// one while inFlight >= limit().

#include <chrono>
#include <cstdint>

#include "dropd/base/clock.hpp"

namespace dropd::throttle {

struct AdaptiveConfig {
  std::uint32_t max_limit = 200;
  std::uint32_t initial_limit = 1;
  double decrease_ratio = 0.9;
  double ewma_alpha = 0.4;
  double rtt_deviation_scale = 2.5;
};

class AdaptiveConcurrency {
 public:
  AdaptiveConcurrency(AdaptiveConfig config, const Clock& clock);

  // A request starts; `in_flight` counts it.
  void onRequestStart(std::uint32_t in_flight);
  // A request ended after `rtt`. `back_pressure`: the server pushed back
  // (429, 503, 408, 5xx, timeout); then `rtt` is not used.
  void onResponse(std::chrono::nanoseconds rtt, bool back_pressure);

  [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }
  // For metrics: the EWMA of past windows' mean RTT (0 before the first).
  [[nodiscard]] std::chrono::nanoseconds pastRttMean() const;

 private:
  void endWindow(MonoTime now);

  const AdaptiveConfig config_;
  const Clock& clock_;
  std::uint32_t limit_;
  // EWMA of window mean RTTs, in nanoseconds as double.
  double past_mean_ = 0;
  double past_variance_ = 0;
  bool have_past_ = false;
  // The current window.
  double window_rtt_sum_ = 0;
  std::uint32_t window_rtt_count_ = 0;
  bool reached_limit_ = false;
  bool back_pressure_ = false;
  MonoTime window_end_{};
};

}  // namespace dropd::throttle
