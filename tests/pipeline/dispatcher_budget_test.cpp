// Budgets in the Dispatcher: sending stops at budget.tokens_per_day within
// one request's estimate, files wait (none fails), and sending resumes at
// the next UTC day, driven by a ManualClock.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/throttle/daily_budget.hpp"

#include "pipeline/scripted_client.hpp"
#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using dropd::pipeline::Dispatcher;
using dropd::pipeline::Job;
using dropd::test::succeeded;
using namespace std::chrono_literals;

namespace {

// Each request: a 4-byte body (1 token) + max_tokens 100 = 101 estimated;
// each answer says it used 100.
constexpr std::uint64_t kEstimate = 101;
constexpr std::uint64_t kUsed = 100;

dropd::config::Endpoint endpoint(std::uint64_t tokens_per_day) {
  dropd::config::Endpoint e;
  e.name = "test";
  e.limits.max_in_flight = 1;  // one at a time: the count is exact
  e.params = {{"max_tokens", 100}};
  e.budget.tokens_per_day = tokens_per_day;
  return e;
}

struct Fixture {
  explicit Fixture(const dropd::config::Endpoint& e) {
    auto scripted = std::make_unique<dropd::test::ScriptedClient>();
    client = scripted.get();
    dispatcher = Dispatcher::create(loop.get(), e, clock, log, std::move(scripted));
  }
  void submit(const std::string& name, std::size_t pipeline = 0) {
    auto job = std::make_unique<Job>();
    job->rel = name;
    job->pipeline = pipeline;
    job->body = std::make_shared<const std::string>(name);
    job->moveTo(dropd::pipeline::JobState::kQueued, "test");
    job->moveTo(dropd::pipeline::JobState::kReading, "test");
    dispatcher->submit(std::move(job), [this](std::unique_ptr<Job> finished) {
      done.push_back(std::move(finished));
    });
  }
  // Answers whatever is in flight, and what that lets go, until nothing is.
  void answerAll() {
    while (client->pending() > 0) {
      (void)client->answerAll(succeeded(10ms, kUsed));
    }
  }

  dropd::test::LoopFixture loop;
  dropd::test::ManualClock clock;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::vector<std::unique_ptr<Job>> done;
  dropd::test::ScriptedClient* client = nullptr;
  std::unique_ptr<Dispatcher> dispatcher;
};

std::vector<std::string> names(const char* prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::string(prefix) + std::to_string(1000 + i).substr(1));  // 4 bytes
  }
  return out;
}

}  // namespace

TEST_CASE("DailyBudget counts a UTC day and settles estimates", "[pipeline]") {
  using dropd::throttle::DailyBudget;
  const dropd::WallTime noon{std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 12h};
  CHECK(dropd::throttle::nextUtcMidnight(noon) ==
        dropd::WallTime{std::chrono::sys_days{std::chrono::year{2026} / 12 / 8}});
  DailyBudget budget(250);
  CHECK_FALSE(budget.spent(noon));
  const auto day = budget.charge(200, noon);
  budget.settle(day, 200, 50, noon);
  CHECK(budget.usedToday(noon) == 50);
  (void)budget.charge(300, noon);
  CHECK(budget.spent(noon));
  CHECK_FALSE(budget.spent(noon + 12h));    // 00:00 UTC: a new day
  budget.settle(day, 300, 10, noon + 12h);  // yesterday's answer: not counted today
  CHECK(budget.usedToday(noon + 12h) == 0);
  CHECK_FALSE(DailyBudget(0).spent(noon));  // no limit
  budget.setLimit(1000);
  (void)budget.charge(999, noon + 13h);
  CHECK_FALSE(budget.spent(noon + 13h));
}

TEST_CASE("An endpoint budget stops sending at N and resumes the next UTC day", "[pipeline]") {
  constexpr std::uint64_t kBudget = 1000;
  Fixture f(endpoint(kBudget));
  const auto all = names("a", 20);
  for (const auto& name : all) {
    f.submit(name);
  }
  f.answerAll();
  // 9 answers used 900; the 10th went (under 1000) and used 100 more.
  CHECK(f.client->sends() == 10);
  CHECK(f.done.size() == 10);
  const auto budgets = f.dispatcher->budgets();
  REQUIRE(budgets.size() == 1);
  CHECK(budgets[0].spent);
  CHECK(budgets[0].used_today <= kBudget + kEstimate);
  CHECK(f.dispatcher->held() == 10);  // waiting, none failed
  CHECK(f.client->pending() == 0);

  f.clock.advance(24h);
  f.dispatcher->budgetWindowForTest();
  f.answerAll();
  CHECK(f.client->sends() == 20);
  CHECK(f.done.size() == 20);
  for (const auto& job : f.done) {
    CHECK_FALSE(job->failure.has_value());
  }
}

TEST_CASE("A pipeline budget sets its jobs aside and lets the others go", "[pipeline]") {
  Fixture f(endpoint(0));
  f.dispatcher->setPipelineBudget(0, "capped",
                                  {.tokens_per_day = 300, .cost_per_1k_tokens = std::nullopt});
  f.dispatcher->setPipelineBudget(1, "free", {});
  const auto capped = names("c", 6);
  const auto free = names("f", 6);
  for (std::size_t i = 0; i < capped.size(); ++i) {
    f.submit(capped[i], 0);
    f.submit(free[i], 1);
  }
  f.answerAll();
  std::size_t capped_done = 0;
  for (const auto& job : f.done) {
    capped_done += job->pipeline == 0 ? 1 : 0;
  }
  CHECK(capped_done == 3);  // 300 tokens: three answers of 100
  CHECK(f.done.size() == 9);
  CHECK(f.dispatcher->held() == 3);

  f.clock.advance(24h);
  f.dispatcher->budgetWindowForTest();
  f.answerAll();
  CHECK(f.done.size() == 12);
}

TEST_CASE("A chunk's request is charged its own text's estimate, not the file's", "[pipeline]") {
  Fixture f(endpoint(1'000'000));
  auto job = std::make_unique<Job>();
  job->rel = "big.txt";
  job->stats.emplace();
  job->stats->estimated_tokens = 600'000;  // the whole document
  job->stats->bytes = 2'000'000;
  job->body = std::make_shared<const std::string>(std::string(60, 'x'));
  SECTION("with request_content: the chunk's 10 tokens + (60 - 40) / 4 + max_tokens 100") {
    job->request_content = dropd::pipeline::JobRequestContent{10, 40};
    job->moveTo(dropd::pipeline::JobState::kQueued, "test");
    job->moveTo(dropd::pipeline::JobState::kReading, "test");
    f.dispatcher->submit(std::move(job),
                         [&f](std::unique_ptr<Job> j) { f.done.push_back(std::move(j)); });
    REQUIRE(f.client->pending() == 1);
    CHECK(f.dispatcher->budgets()[0].used_today == 10 + 5 + 100);
  }
  SECTION("without: the file's") {
    job->moveTo(dropd::pipeline::JobState::kQueued, "test");
    job->moveTo(dropd::pipeline::JobState::kReading, "test");
    f.dispatcher->submit(std::move(job),
                         [&f](std::unique_ptr<Job> j) { f.done.push_back(std::move(j)); });
    REQUIRE(f.client->pending() == 1);
    CHECK(f.dispatcher->budgets()[0].used_today == 600'000 + 100);
  }
  f.answerAll();
  CHECK(f.done.size() == 1);
}
