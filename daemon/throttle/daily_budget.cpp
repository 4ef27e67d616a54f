#include "dropd/throttle/daily_budget.hpp"

namespace dropd::throttle {
namespace {

using Days = std::chrono::duration<std::int64_t, std::ratio<86400>>;

}  // namespace

std::int64_t utcDay(WallTime now) {
  return std::chrono::floor<Days>(now.time_since_epoch()).count();
}

WallTime nextUtcMidnight(WallTime now) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(Days{utcDay(now) + 1})};
}

void DailyBudget::rollTo(std::int64_t day) {
  if (day != day_) {
    day_ = day;
    used_ = 0;
  }
}

bool DailyBudget::spent(WallTime now) const { return limit_ != 0 && usedToday(now) >= limit_; }

std::uint64_t DailyBudget::usedToday(WallTime now) const { return utcDay(now) == day_ ? used_ : 0; }

std::int64_t DailyBudget::charge(std::uint64_t tokens, WallTime now) {
  rollTo(utcDay(now));
  used_ += tokens;
  return day_;
}

void DailyBudget::restore(std::int64_t day, std::uint64_t used, WallTime now) {
  rollTo(utcDay(now));
  if (day == day_) {
    used_ += used;
  }
}

void DailyBudget::settle(std::int64_t day, std::uint64_t estimate, std::uint64_t used,
                         WallTime now) {
  rollTo(utcDay(now));
  if (day != day_) {
    return;  // charged on a day that is over: today owes nothing for it
  }
  used_ = used_ >= estimate ? used_ - estimate : 0;
  used_ += used;
}

}  // namespace dropd::throttle
