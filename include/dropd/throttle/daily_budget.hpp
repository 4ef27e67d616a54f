#pragma once

// A token budget per UTC day (budget.tokens_per_day of an endpoint or a
// pipeline, docs/config.md). Pure: time comes in as a parameter, nothing
// is logged. One per scope; loop thread only.
//
// Sending asks spent() before each request and charges the request's
// estimate when it goes; the answer's usage replaces the estimate
// (settle()). A request goes while less than the limit is used, so the day
// ends at most one request's estimate over the limit. The count starts
// again at 0 at 00:00 UTC; a charge made on an earlier day is not settled
// into the new one.

#include <cstdint>

#include "dropd/base/clock.hpp"

namespace dropd::throttle {

// Days since 1970-01-01 UTC of `now` (system_clock counts UTC).
[[nodiscard]] std::int64_t utcDay(WallTime now);
// The next 00:00 UTC after `now`.
[[nodiscard]] WallTime nextUtcMidnight(WallTime now);

class DailyBudget {
 public:
  explicit DailyBudget(std::uint64_t tokens_per_day = 0) : limit_(tokens_per_day) {}

  // 0: no limit. A reload may raise or lower it; what is used stays.
  void setLimit(std::uint64_t tokens_per_day) { limit_ = tokens_per_day; }
  [[nodiscard]] std::uint64_t limit() const { return limit_; }

  // Today's limit is reached: nothing more goes until the next UTC day.
  [[nodiscard]] bool spent(WallTime now) const;
  // Takes `tokens` (a request's estimate); returns the day it counts on.
  std::int64_t charge(std::uint64_t tokens, WallTime now);
  // What the request charged on `day` really used (0 for one that failed).
  void settle(std::int64_t day, std::uint64_t estimate, std::uint64_t used, WallTime now);
  [[nodiscard]] std::uint64_t usedToday(WallTime now) const;
  // What an earlier run of dropd used on `day` (state_dir/budgets.json),
  // added to this run's count of that day; a day that is over is ignored.
  void restore(std::int64_t day, std::uint64_t used, WallTime now);

 private:
  void rollTo(std::int64_t day);

  std::uint64_t limit_ = 0;
  std::int64_t day_ = 0;
  std::uint64_t used_ = 0;
};

}  // namespace dropd::throttle
