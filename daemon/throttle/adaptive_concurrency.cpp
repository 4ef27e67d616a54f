#include "dropd/throttle/adaptive_concurrency.hpp"

#include <algorithm>
#include <cmath>

namespace dropd::throttle {

namespace {

AdaptiveConfig sanitized(AdaptiveConfig config) {
  config.max_limit = std::max<std::uint32_t>(config.max_limit, 1);
  config.initial_limit = std::clamp<std::uint32_t>(config.initial_limit, 1, config.max_limit);
  if (!(config.decrease_ratio > 0 && config.decrease_ratio < 1)) {
    config.decrease_ratio = 0.9;
  }
  if (!(config.ewma_alpha > 0 && config.ewma_alpha <= 1)) {
    config.ewma_alpha = 0.4;
  }
  if (!(config.rtt_deviation_scale >= 0) || !std::isfinite(config.rtt_deviation_scale)) {
    config.rtt_deviation_scale = 2.5;
  }
  return config;
}

}  // namespace

AdaptiveConcurrency::AdaptiveConcurrency(AdaptiveConfig config, const Clock& clock)
    : config_(sanitized(config)), clock_(clock), limit_(config_.initial_limit) {}

std::chrono::nanoseconds AdaptiveConcurrency::pastRttMean() const {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(past_mean_));
}

void AdaptiveConcurrency::onRequestStart(std::uint32_t in_flight) {
  if (in_flight >= limit_) {
    reached_limit_ = true;
  }
}

void AdaptiveConcurrency::onResponse(std::chrono::nanoseconds rtt, bool back_pressure) {
  const MonoTime now = clock_.now();
  if (back_pressure) {
    back_pressure_ = true;
  } else if (rtt.count() >= 0) {
    window_rtt_sum_ += static_cast<double>(rtt.count());
    ++window_rtt_count_;
  }
  if (!have_past_) {
    if (window_rtt_count_ == 0) {
      return;  // no RTT yet to size a window with
    }
    // The first RTT seeds the average and sizes the first window.
    past_mean_ = window_rtt_sum_ / window_rtt_count_;
    have_past_ = true;
    window_end_ = now + std::chrono::nanoseconds(static_cast<std::int64_t>(past_mean_));
    window_rtt_sum_ = 0;
    window_rtt_count_ = 0;
    return;
  }
  if (now >= window_end_) {
    endWindow(now);
  }
}

void AdaptiveConcurrency::endWindow(MonoTime now) {
  const bool have_rtt = window_rtt_count_ > 0;
  const double current = have_rtt ? window_rtt_sum_ / window_rtt_count_ : 0;
  const double threshold =
      past_mean_ + config_.rtt_deviation_scale * std::sqrt(std::max(past_variance_, 0.0));
  // As in Vector, the increase is checked first. Unlike Vector, an RTT
  // exactly at a zero-variance mean (a perfectly steady link) is no spike:
  // steady is not congested. Any rise over a steady mean still is.
  const bool spike = have_rtt && current >= threshold && current > past_mean_;
  if (limit_ < config_.max_limit && reached_limit_ && !back_pressure_ && have_rtt &&
      current <= past_mean_) {
    ++limit_;
  } else if (back_pressure_ || spike) {
    limit_ = std::max<std::uint32_t>(
        1, static_cast<std::uint32_t>(std::floor(limit_ * config_.decrease_ratio)));
  }
  if (have_rtt) {
    // Incremental EWMA of mean and variance (West 1979, as Vector's EwmaVar).
    const double diff = current - past_mean_;
    const double incr = config_.ewma_alpha * diff;
    past_mean_ += incr;
    past_variance_ = (1 - config_.ewma_alpha) * (past_variance_ + diff * incr);
  }
  window_end_ = now + std::chrono::nanoseconds(static_cast<std::int64_t>(past_mean_));
  window_rtt_sum_ = 0;
  window_rtt_count_ = 0;
  reached_limit_ = false;
  back_pressure_ = false;
}

}  // namespace dropd::throttle
