// Dispatcher, budgets: budget.tokens_per_day of the endpoint and of each
// pipeline, checked before a request goes, charged its estimate, settled
// with its usage; the wait until 00:00 UTC when one is spent.
#include <algorithm>

#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/uv/check.hpp"

namespace dropd::pipeline {

void Dispatcher::useBudgetBook(BudgetBook& book) {
  book_ = &book;
  endpoint_budget_ = &book.at("endpoint:" + endpoint_.name, endpoint_.budget.tokens_per_day);
}

void Dispatcher::setPipelineBudget(std::size_t pipeline, const std::string& name,
                                   const config::Budget& budget) {
  pipeline_budgets_[pipeline] = {name, &book_->at("pipeline:" + name, budget.tokens_per_day),
                                 budget.cost_per_1k_tokens};
}

std::vector<Dispatcher::BudgetView> Dispatcher::budgets() const {
  const WallTime now = clock_.wallNow();
  std::vector<BudgetView> out;
  const auto add = [&](std::string scope, const std::string& name, const throttle::DailyBudget& b,
                       std::optional<double> price) {
    if (b.limit() != 0 || price) {
      const std::uint64_t used = b.usedToday(now);
      const double cost = price ? static_cast<double>(used) / 1000.0 * *price : 0.0;
      out.push_back({std::move(scope), name, b.limit(), used, b.spent(now), price, cost});
    }
  };
  add("endpoint", endpoint_.name, *endpoint_budget_, endpoint_.budget.cost_per_1k_tokens);
  for (const auto& [index, p] : pipeline_budgets_) {
    add("pipeline", p.name, *p.budget, p.cost_per_1k_tokens);
  }
  return out;
}

bool Dispatcher::nextWithinBudgets() {
  const WallTime now = clock_.wallNow();
  const auto it = pipeline_budgets_.find(next_->job->pipeline);
  const bool pipeline_spent = it != pipeline_budgets_.end() && it->second.budget->spent(now);
  if ((endpoint_budget_->spent(now) || pipeline_spent) && in_flight_ > 0) {
    // The count holds the estimates of requests in flight; their answers
    // may use less. Only with none in flight is a budget really spent.
    return false;  // kept as next_: the next answer pumps again
  }
  if (endpoint_budget_->spent(now)) {
    noteSpent("endpoint", endpoint_.name, endpoint_budget_->limit());
    armBudgetTimer();
    return false;
  }
  if (pipeline_spent) {
    noteSpent("pipeline", it->second.name, it->second.budget->limit());
    parked_.push_back(std::move(*next_));
    next_.reset();
    armBudgetTimer();
    return false;
  }
  return true;
}

void Dispatcher::chargeBudgets(Entry& entry) {
  const WallTime now = clock_.wallNow();
  entry.budget_day = endpoint_budget_->charge(entry.estimated_tokens, now);
  if (const auto it = pipeline_budgets_.find(entry.job->pipeline); it != pipeline_budgets_.end()) {
    (void)it->second.budget->charge(entry.estimated_tokens, now);
  }
}

void Dispatcher::settleBudgets(const Entry& entry, std::uint64_t used) {
  const WallTime now = clock_.wallNow();
  endpoint_budget_->settle(entry.budget_day, entry.estimated_tokens, used, now);
  if (const auto it = pipeline_budgets_.find(entry.job->pipeline); it != pipeline_budgets_.end()) {
    it->second.budget->settle(entry.budget_day, entry.estimated_tokens, used, now);
  }
}

void Dispatcher::noteSpent(std::string_view scope, const std::string& name, std::uint64_t limit) {
  std::string key = std::string(scope) + ":" + name;
  if (std::find(spent_logged_.begin(), spent_logged_.end(), key) != spent_logged_.end()) {
    return;
  }
  spent_logged_.push_back(std::move(key));
  log_.warn(
      "budget.spent scope={} name={} endpoint={} tokens_per_day={} resumes=\"00:00 UTC\" "
      "hint=\"files wait; a reload with a higher budget resumes sooner\"",
      scope, name, endpoint_.name, limit);
}

void Dispatcher::armBudgetTimer() {
  if (budget_timer_) {
    return;
  }
  const WallTime now = clock_.wallNow();
  const auto delay =
      std::chrono::ceil<std::chrono::milliseconds>(throttle::nextUtcMidnight(now) - now);
  auto timer = uv::Timer::create(loop_);
  DROPD_CHECK(timer.has_value(), "budget timer");
  budget_timer_.emplace(std::move(*timer));
  const Status started =
      budget_timer_->start(delay + std::chrono::milliseconds(1), [this] { onBudgetWindow(); });
  DROPD_CHECK(started.has_value(), "budget timer start");
}

void Dispatcher::onBudgetWindow() {
  budget_timer_.reset();  // may be this callback's own timer: allowed
  const WallTime now = clock_.wallNow();
  std::vector<Entry> still;
  for (Entry& entry : parked_) {
    const auto it = pipeline_budgets_.find(entry.job->pipeline);
    if (it != pipeline_budgets_.end() && it->second.budget->spent(now)) {
      still.push_back(std::move(entry));
      continue;
    }
    // Back in the queue as it was: still kWaiting.
    const std::uint64_t id = next_id_++;
    queue_.push(std::to_string(entry.job->pipeline), id);
    queued_.emplace(id, std::move(entry));
  }
  parked_ = std::move(still);
  if (!spent_logged_.empty()) {
    log_.info("budget.resumed endpoint={} budgets={}", endpoint_.name, spent_logged_.size());
    spent_logged_.clear();  // a budget still spent is logged again, once
  }
  pump();
}

}  // namespace dropd::pipeline
