#pragma once

// Circuit breaker for one endpoint, after Vector's endpoint health
// (src/sinks/util/service/health.rs). Loop thread only; `clock` must outlive
// the breaker.
//
//   closed     requests flow; `failure_threshold` consecutive failures open it
//   open       nothing flows until nextProbeAt(): initial_backoff, doubling
//              with each re-open up to max_backoff
//   half-open  exactly one probe flows; its success closes the breaker and
//              resets the delay, its failure re-opens it with the next delay
//
// A failure is what says the endpoint itself is unwell: a network error, a
// timeout, a 5xx. A 4xx or 429 is an answer from a healthy server and counts
// as success here (the limiter handles 429s). Failures reported while open
// are late answers to requests sent before it opened and change nothing.

#include <chrono>
#include <cstdint>
#include <optional>

#include "dropd/base/clock.hpp"

namespace dropd::throttle {

struct BreakerConfig {
  std::uint32_t failure_threshold = 5;  // at least 1
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};  // raised to initial_backoff if below it
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };

class CircuitBreaker {
 public:
  CircuitBreaker(BreakerConfig config, const Clock& clock);

  // True if a request may go now. In half-open this takes the one probe,
  // so call it only when the request will really be sent.
  [[nodiscard]] bool allowRequest();
  // allowRequest() without taking the probe.
  [[nodiscard]] bool wouldAllow() const;
  void onSuccess();
  void onFailure();
  // The probe ended with no verdict (cancelled at shutdown, say): the next
  // allowRequest() may send another.
  void onProbeAbandoned();

  // kOpen turns into kHalfOpen by itself once nextProbeAt() has passed.
  [[nodiscard]] BreakerState state() const;
  // While open or half-open: when the (next) probe may go.
  [[nodiscard]] std::optional<MonoTime> nextProbeAt() const;
  [[nodiscard]] std::uint32_t consecutiveFailures() const noexcept { return failures_; }

 private:
  void open();

  const BreakerConfig config_;
  const Clock& clock_;
  bool open_ = false;  // open or half-open
  bool probe_in_flight_ = false;
  std::uint32_t failures_ = 0;
  std::uint32_t opens_ = 0;  // re-opens since the last close: the delay's exponent
  MonoTime probe_at_{};
};

}  // namespace dropd::throttle
