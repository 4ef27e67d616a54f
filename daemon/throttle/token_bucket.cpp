#include "dropd/throttle/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace dropd::throttle {

namespace {

constexpr double kNanosPerMinute = 60e9;
// Float rounding slack: a level of 0.9999999999 counts as 1.
constexpr double kEpsilon = 1e-9;

double sane(double value) { return std::isfinite(value) && value > 0 ? value : 0; }

double defaultCapacity(const BucketConfig& config) {
  const double per_minute = sane(config.per_minute);
  const double burst = sane(config.burst);
  return burst > 0 ? std::max(burst, 1.0) : std::max(1.0, per_minute / 60.0);
}

}  // namespace

TokenBucket::TokenBucket(BucketConfig config, const Clock& clock)
    : rate_per_ns_(sane(config.per_minute) / kNanosPerMinute),
      capacity_(defaultCapacity(config)),
      clock_(clock),
      level_(std::min(capacity_, std::max(1.0, sane(config.per_minute) / 60.0))),
      last_(clock.now()) {}

double TokenBucket::levelAt(MonoTime now) const {
  const MonoTime from = std::max(last_, hold_until_);
  if (now <= from) {
    return level_;
  }
  const double elapsed_ns = static_cast<double>((now - from).count());
  return std::min(capacity_, level_ + elapsed_ns * rate_per_ns_);
}

void TokenBucket::refill() {
  const MonoTime now = clock_.now();
  level_ = levelAt(now);
  last_ = std::max(last_, now);
}

double TokenBucket::level() const { return levelAt(clock_.now()); }

MonoTime TokenBucket::availableAt(std::uint64_t n) const {
  const MonoTime now = clock_.now();
  const MonoTime earliest = std::max(now, hold_until_);
  if (unlimited()) {
    return earliest;
  }
  const double need = std::min(static_cast<double>(n), capacity_);
  const double level = levelAt(earliest);
  if (level + kEpsilon >= need) {
    return earliest;
  }
  const double wait_ns = std::ceil((need - level) / rate_per_ns_);
  // A wait past a year is as good as never; the cap keeps the cast defined.
  const double capped = std::min(wait_ns, 365.0 * 24 * 3600 * 1e9);
  return earliest + MonoTime::duration(static_cast<MonoTime::duration::rep>(capped));
}

Take TokenBucket::tryTake(std::uint64_t n) {
  const MonoTime at = availableAt(n);
  const MonoTime now = clock_.now();
  if (at > now) {
    return {false, at - now};
  }
  charge(n);
  return {true, MonoTime::duration(0)};
}

void TokenBucket::charge(std::uint64_t n) {
  if (unlimited()) {
    return;
  }
  refill();
  level_ -= static_cast<double>(n);
}

void TokenBucket::refund(std::uint64_t n) {
  if (unlimited()) {
    return;
  }
  refill();
  level_ = std::min(capacity_, level_ + static_cast<double>(n));
}

void TokenBucket::limitTo(std::uint64_t available, MonoTime hold_until) {
  refill();
  level_ = std::min(level_, static_cast<double>(available));
  hold_until_ = std::max(hold_until_, hold_until);
}

void TokenBucket::reconfigure(BucketConfig config) {
  refill();
  rate_per_ns_ = sane(config.per_minute) / kNanosPerMinute;
  capacity_ = defaultCapacity(config);
  level_ = std::min(level_, capacity_);
}

}  // namespace dropd::throttle
