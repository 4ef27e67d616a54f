#include "dropd/pipeline/read_budget.hpp"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "support/loop_fixture.hpp"

using dropd::pipeline::ReadBudget;
using dropd::pipeline::Sink;

TEST_CASE("ReadBudget holds max_in_flight plus a read-ahead of bodies", "[pipeline]") {
  CHECK(ReadBudget::limitFor(1) == 3);  // at least 2 ahead
  CHECK(ReadBudget::limitFor(8) == 10);
  CHECK(ReadBudget::limitFor(16) == 20);
  CHECK(ReadBudget::limitFor(64) == 80);
}

TEST_CASE("ReadBudget wakes the pipelines sharing an endpoint in turns", "[pipeline]") {
  dropd::test::LoopFixture loop;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  auto sink = std::move(*Sink::create(loop.get(), log, 3, nullptr, [] {}));
  ReadBudget budget(1, *sink);  // 3 bodies
  std::vector<std::string> woken;
  // Each reader takes one body when woken, as a pipeline with a backlog does.
  for (const char* name : {"a", "b"}) {
    budget.addReader([&budget, &woken, name] {
      woken.emplace_back(name);
      budget.acquire();
    });
  }
  budget.acquire();
  budget.acquire();
  REQUIRE(budget.room());
  budget.acquire();
  REQUIRE_FALSE(budget.room());

  SECTION("each release asks the readers, a different one first each time") {
    budget.release();
    budget.release();
    budget.release();
    CHECK(woken == std::vector<std::string>{"a", "b", "a"});
    CHECK(budget.held() == 3);
  }
  SECTION("a closed budget has no room and wakes nobody") {
    budget.close();
    budget.release();
    CHECK_FALSE(budget.room());
    CHECK(woken.empty());
  }
}
