#pragma once

// The day's budget counts kept across restarts (docs/config.md, "Budgets"):
// state_dir/budgets.json holds every budget's tokens used this UTC day,
//   {"version": 1, "day": 20429, "used": {"endpoint:main": 1234, ...}}
// read once at start (before the parts charge anything) and written on the
// threadpool at most every kSaveEvery while a count changed, then once
// more when the loop has ended. A crash loses at most kSaveEvery of
// counting; a file that cannot be read is logged and the day starts at 0.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/base/error.hpp"
#include "dropd/pipeline/budget_book.hpp"

namespace dropd::ops {

struct BudgetCounts {
  std::int64_t day = 0;  // utcDay()
  std::map<std::string, std::uint64_t> used;
  bool operator==(const BudgetCounts&) const = default;
};

// Pure: the counts of `book` on `now`'s day (budgets with none left out),
// and the file's text both ways.
[[nodiscard]] BudgetCounts countsOf(const pipeline::BudgetBook& book, WallTime now);
[[nodiscard]] std::string formatBudgetFile(const BudgetCounts& counts);
[[nodiscard]] Result<BudgetCounts> parseBudgetFile(std::string_view text);

// Blocking: at start only. An absent file is no counts.
[[nodiscard]] Result<BudgetCounts> readBudgetFile(const std::filesystem::path& path);
// Restores `path`'s counts of today into `book`; logs what it did.
void restoreBudgets(const std::filesystem::path& path, pipeline::BudgetBook& book, WallTime now,
                    spdlog::logger& log);

class BudgetSaver {
 public:
  static constexpr std::chrono::seconds kSaveEvery{5};

  BudgetSaver(uv_loop_t& loop, std::filesystem::path path, spdlog::logger& log)
      : loop_(loop), path_(std::move(path)), log_(log) {}

  // From the daemon's tick: a write on the pool when the counts changed
  // since the last one, the last began kSaveEvery ago and none is running.
  void maybeSave(const pipeline::BudgetBook& book, WallTime now, MonoTime mono);
  // A write is on the pool: the loop must not stop before it ends.
  [[nodiscard]] bool saving() const { return saving_; }
  // Blocking: once the loop has ended, the last counts.
  void saveNow(const pipeline::BudgetBook& book, WallTime now);

 private:
  void noteResult(const Status& st);

  uv_loop_t& loop_;
  const std::filesystem::path path_;
  spdlog::logger& log_;
  BudgetCounts saved_;  // what the last write began with
  MonoTime last_{};
  bool saving_ = false;
  bool failed_logged_ = false;
};

}  // namespace dropd::ops
