// state_dir/budgets.json: the day's budget counts across restarts.
#include "dropd/ops/budget_file.hpp"

#include <chrono>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "dropd/throttle/daily_budget.hpp"

#include "support/temp_dir.hpp"

namespace {

using dropd::WallTime;
using dropd::ops::BudgetCounts;
using dropd::ops::countsOf;
using dropd::ops::formatBudgetFile;
using dropd::ops::parseBudgetFile;
using dropd::ops::readBudgetFile;
using dropd::ops::restoreBudgets;
using dropd::pipeline::BudgetBook;
using namespace std::chrono_literals;

// 2026-12-07 15:00 UTC.
const WallTime kNow = WallTime{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}} + 15h;

std::shared_ptr<spdlog::logger> nullLog() {
  return std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
}

void writeText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("budget counts survive their file's text, whatever they hold", "[ops]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    BudgetCounts counts{static_cast<std::int64_t>(rng() % 100000), {}};
    const auto n = rng() % 6;
    for (std::uint64_t i = 0; i < n; ++i) {
      counts.used.emplace((i % 2 ? "pipeline:p" : "endpoint:e") + std::to_string(rng() % 1000),
                          rng() >> (rng() % 64));
    }
    const auto back = parseBudgetFile(formatBudgetFile(counts));
    REQUIRE(back.has_value());
    CHECK(*back == counts);
  }
  for (const char* bad : {"", "{}", "[]", "{\"version\":2,\"day\":1,\"used\":{}}",
                          "{\"version\":1,\"day\":\"x\",\"used\":{}}",
                          "{\"version\":1,\"day\":1,\"used\":{\"endpoint:e\":-5}}",
                          "{\"version\":1,\"day\":1,\"used\":{\"endpoint:e\":1.5}}", "not json"}) {
    INFO(bad);
    CHECK_FALSE(parseBudgetFile(bad).has_value());
  }
}

TEST_CASE("a restart counts on from today's saved counts, not another day's", "[ops]") {
  dropd::test::TempDir dir;
  const auto path = dir.path() / "budgets.json";
  auto log = nullLog();

  BudgetBook before;
  before.at("endpoint:e", 1000).charge(700, kNow);
  before.at("pipeline:p", 0).charge(40, kNow);
  (void)before.at("endpoint:idle", 5);  // nothing used: not written
  writeText(path, formatBudgetFile(countsOf(before, kNow)));
  CHECK(readBudgetFile(path)->used.size() == 2);

  SECTION("the same day: the counts go on") {
    BudgetBook after;
    restoreBudgets(path, after, kNow + 1h, *log);
    auto& e = after.at("endpoint:e", 1000);
    CHECK(e.usedToday(kNow + 1h) == 700);
    CHECK(after.at("pipeline:p", 0).usedToday(kNow + 1h) == 40);
    e.charge(300, kNow + 1h);
    CHECK(e.spent(kNow + 1h));
  }
  SECTION("the next day: nothing carried over") {
    BudgetBook after;
    restoreBudgets(path, after, kNow + 10h, *log);
    CHECK(after.at("endpoint:e", 1000).usedToday(kNow + 10h) == 0);
  }
  SECTION("no file, or a torn one: the day starts at 0") {
    BudgetBook after;
    restoreBudgets(dir.path() / "absent.json", after, kNow, *log);
    writeText(path, "{\"version\":1,\"day\":");
    restoreBudgets(path, after, kNow, *log);
    CHECK(after.at("endpoint:e", 1000).usedToday(kNow) == 0);
  }
}
