// DailyBudget and the UTC day helpers on any sequence of charges, settles
// and clock moves. Invariants: the next midnight is after now and at most
// a day later, and is a day start; today's count never exceeds what was
// charged today (a settle only lowers it to what was used); spent() is exactly "a limit, and
// today's count at or over it"; a new day starts at zero.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dropd/throttle/daily_budget.hpp"

#include "fuzz_check.hpp"

namespace {

using dropd::WallTime;
using namespace std::chrono_literals;

std::uint64_t take(const std::uint8_t*& p, const std::uint8_t* end) {
  std::uint64_t v = 0;
  for (int i = 0; i < 3 && p < end; ++i) {
    v = (v << 8) | *p++;
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* p = data;
  const std::uint8_t* const end = data + size;
  dropd::throttle::DailyBudget budget(take(p, end) % 5000);
  WallTime now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}};
  std::uint64_t charged_today = 0;
  // Charges not settled yet: {day, estimate}; each settles once, using half.
  std::vector<std::pair<std::int64_t, std::uint64_t>> open;
  while (p < end) {
    const std::uint8_t op = *p++ % 4;
    const std::uint64_t n = take(p, end) % 4000;
    const std::int64_t day_before = dropd::throttle::utcDay(now);
    if (op == 0) {
      open.emplace_back(budget.charge(n, now), n);
      charged_today += n;
    } else if (op == 1 && !open.empty()) {
      budget.settle(open.back().first, open.back().second, open.back().second / 2, now);
      open.pop_back();
    } else if (op == 2) {
      now += std::chrono::minutes(n);
    } else {
      budget.setLimit(n);
    }
    if (dropd::throttle::utcDay(now) != day_before) {
      charged_today = 0;
      DROPD_FUZZ_CHECK(budget.usedToday(now) == 0);
    }
    const WallTime midnight = dropd::throttle::nextUtcMidnight(now);
    DROPD_FUZZ_CHECK(midnight > now && midnight - now <= std::chrono::hours(24));
    DROPD_FUZZ_CHECK(dropd::throttle::nextUtcMidnight(midnight - 1ns) == midnight);
    DROPD_FUZZ_CHECK(budget.usedToday(now) <= charged_today);
    DROPD_FUZZ_CHECK(budget.spent(now) ==
                     (budget.limit() != 0 && budget.usedToday(now) >= budget.limit()));
  }
  return 0;
}
