#pragma once

// Every token budget's count for the day, by scope: "endpoint:NAME" and
// "pipeline:NAME" (docs/config.md, "Budgets"). ops keeps one across
// reloads, so a reload changes limits but never gives back what was used;
// a Dispatcher made without one keeps its own. ops saves the day's counts
// in state_dir/budgets.json and restores them at start
// (daemon/ops/budget_file.cpp), so a restart does not start the day at
// zero. Loop thread only.

#include <cstdint>
#include <map>
#include <string>

#include "dropd/throttle/daily_budget.hpp"

namespace dropd::pipeline {

class BudgetBook {
 public:
  // The budget for `key`, made on first use, its limit set to
  // `tokens_per_day` (0: none). The reference stays valid as long as the book.
  throttle::DailyBudget& at(const std::string& key, std::uint64_t tokens_per_day) {
    throttle::DailyBudget& budget = budgets_[key];
    budget.setLimit(tokens_per_day);
    return budget;
  }
  // Every budget by key, to save their counts.
  [[nodiscard]] const std::map<std::string, throttle::DailyBudget>& all() const { return budgets_; }
  // An earlier run's count of `key` on `day` (a budget made with no limit
  // until its pipeline or endpoint sets one).
  void restore(const std::string& key, std::int64_t day, std::uint64_t used, WallTime now) {
    budgets_[key].restore(day, used, now);
  }

 private:
  std::map<std::string, throttle::DailyBudget> budgets_;  // nodes never move
};

}  // namespace dropd::pipeline
