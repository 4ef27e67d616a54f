#pragma once

// A continuously refilled token bucket for one per-minute limit (requests or
// tokens per minute). Loop thread only; `clock` must outlive the bucket.
//
// Rules:
// - Rate 0 means unlimited: every take is allowed and only a hold (below)
//   can make a caller wait.
// - Capacity (the burst) defaults to one second's worth, max(1, rate/60),
//   and the bucket starts with at most that much, never a minute's budget:
//   providers enforce per-minute limits over much shorter windows, so a
//   full minute sent at once would mostly come back as 429s.
// - A take of n larger than the capacity is allowed once the bucket is full
//   and leaves it in debt (a negative level), so one big request is never
//   blocked forever and the long-run rate still holds.
// - charge()/refund() correct a take afterwards (a token estimate against
//   the response's usage); the level stays within (-inf, capacity].
// - limitTo() applies a server's hint: it may only lower the level and hold
//   refills, never add tokens.
// - reconfigure() changes the rate and capacity in place (a fleet's share
//   of the limit changed): what accrued so far counts at the old rate, and
//   the level is capped at the new capacity.

#include <chrono>
#include <cstdint>

#include "dropd/base/clock.hpp"

namespace dropd::throttle {

struct BucketConfig {
  double per_minute = 0;  // 0: unlimited
  double burst = 0;       // capacity; 0: one second's worth, max(1, per_minute / 60)
};

struct Take {
  bool allowed = false;
  MonoTime::duration wait{0};  // when refused: how long until the same take would succeed
};

class TokenBucket {
 public:
  TokenBucket(BucketConfig config, const Clock& clock);

  // Takes `n` if available now; otherwise takes nothing and says how long to wait.
  [[nodiscard]] Take tryTake(std::uint64_t n);
  // When a take of `n` would succeed (now or later), without taking anything.
  [[nodiscard]] MonoTime availableAt(std::uint64_t n) const;
  // Takes `n` unconditionally, possibly into debt.
  void charge(std::uint64_t n);
  // Gives back `n` that were taken but not used (capped at the capacity).
  void refund(std::uint64_t n);
  // A server says only `available` remain: the level drops to at most that,
  // and nothing refills before `hold_until`.
  void limitTo(std::uint64_t available, MonoTime hold_until);
  // A new rate and capacity from now on (the rules above, as at construction).
  void reconfigure(BucketConfig config);

  [[nodiscard]] bool unlimited() const noexcept { return rate_per_ns_ == 0; }
  [[nodiscard]] double capacity() const noexcept { return capacity_; }
  [[nodiscard]] double level() const;  // now; may be negative (debt)

 private:
  [[nodiscard]] double levelAt(MonoTime now) const;
  void refill();

  double rate_per_ns_;  // tokens per nanosecond; 0: unlimited
  double capacity_;
  const Clock& clock_;
  double level_;
  MonoTime last_;          // when level_ was last brought up to date
  MonoTime hold_until_{};  // no refill before this
};

}  // namespace dropd::throttle
