#include "dropd/throttle/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>

namespace dropd::throttle {

namespace {

BreakerConfig sanitized(BreakerConfig config) {
  config.failure_threshold = std::max<std::uint32_t>(config.failure_threshold, 1);
  config.initial_backoff = std::max(config.initial_backoff, std::chrono::milliseconds(0));
  config.max_backoff = std::max(config.max_backoff, config.initial_backoff);
  return config;
}

}  // namespace

CircuitBreaker::CircuitBreaker(BreakerConfig config, const Clock& clock)
    : config_(sanitized(config)), clock_(clock) {}

BreakerState CircuitBreaker::state() const {
  if (!open_) {
    return BreakerState::kClosed;
  }
  return clock_.now() >= probe_at_ ? BreakerState::kHalfOpen : BreakerState::kOpen;
}

bool CircuitBreaker::wouldAllow() const {
  switch (state()) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kHalfOpen:
      return !probe_in_flight_;
    case BreakerState::kOpen:
      return false;
  }
  return false;
}

bool CircuitBreaker::allowRequest() {
  if (!wouldAllow()) {
    return false;
  }
  if (open_) {
    probe_in_flight_ = true;
  }
  return true;
}

void CircuitBreaker::onSuccess() {
  open_ = false;
  probe_in_flight_ = false;
  failures_ = 0;
  opens_ = 0;
}

void CircuitBreaker::onFailure() {
  if (!open_) {
    if (++failures_ >= config_.failure_threshold) {
      open();
    }
    return;
  }
  if (probe_in_flight_) {
    open();  // the probe failed: wait longer
  }
}

void CircuitBreaker::onProbeAbandoned() { probe_in_flight_ = false; }

std::optional<MonoTime> CircuitBreaker::nextProbeAt() const {
  if (!open_) {
    return std::nullopt;
  }
  return probe_at_;
}

void CircuitBreaker::open() {
  // initial * 2^opens, computed in double so a long outage cannot overflow.
  const double delay_ms =
      std::min(static_cast<double>(config_.initial_backoff.count()) *
                   std::ldexp(1.0, static_cast<int>(std::min<std::uint32_t>(opens_, 62))),
               static_cast<double>(config_.max_backoff.count()));
  open_ = true;
  probe_in_flight_ = false;
  ++opens_;
  probe_at_ = clock_.now() + std::chrono::milliseconds(static_cast<std::int64_t>(delay_ms));
}

}  // namespace dropd::throttle
