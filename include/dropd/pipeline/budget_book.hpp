#pragma once

// Every token budget's count for the day, by scope: "endpoint:NAME" and
// "pipeline:NAME" (docs/config.md, "Budgets"). ops keeps one across
// reloads, so a reload changes limits but never gives back what was used;
// a Dispatcher made without one keeps its own. Counts are in memory only:
// a restart starts the day at zero. Loop thread only.

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

 private:
  std::map<std::string, throttle::DailyBudget> budgets_;  // nodes never move
};

}  // namespace dropd::pipeline
