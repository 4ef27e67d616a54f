// pipeline::Claims over a real PostgreSQL ledger shared by two instances:
// the count of live instances that splits the endpoints' limits, and the
// claims given back at a clean stop (docs/fleet.md).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dropd/pipeline/claims.hpp"
#include "dropd/postgres/pg_ledger_store.hpp"

#include "support/loop_fixture.hpp"
#include "support/pg_cluster.hpp"

namespace dropd::pipeline {
namespace {

using namespace std::chrono_literals;

spdlog::logger& quietLog() {
  static spdlog::logger log("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  return log;
}

std::unique_ptr<postgres::PgLedgerStore> openStore(test::LoopFixture& loop,
                                                   const std::string& url) {
  std::optional<Status> ready;
  auto store = postgres::PgLedgerStore::open(loop.get(), quietLog(), {url, std::nullopt},
                                             [&ready](Status st) { ready = std::move(st); });
  REQUIRE(store);
  loop.runUntil([&] { return ready.has_value(); });
  REQUIRE(*ready);
  return std::move(*store);
}

TEST_CASE("Claims count the fleet's live instances and give everything back at a stop",
          "[postgres]") {
  test::LoopFixture loop;
  const std::string url = test::PgCluster::get().createDatabase();
  auto store_a = openStore(loop, url);
  auto store_b = openStore(loop, url);
  auto a = Claims::create(loop.get(), quietLog(), *store_a, "a:1:1", 1s);
  REQUIRE(a);
  std::vector<std::uint32_t> seen_by_a;
  (*a)->onLiveChange([&](std::uint32_t live) { seen_by_a.push_back(live); });
  loop.runUntil([&] { return (*a)->counted(); });
  CHECK((*a)->liveInstances() == 1);

  auto b = Claims::create(loop.get(), quietLog(), *store_b, "b:2:2", 1s);
  REQUIRE(b);
  loop.runUntil([&] { return (*b)->counted(); });
  CHECK((*b)->liveInstances() == 2);
  // a learns of b at its next heartbeat (lease/3).
  loop.runUntil([&] { return (*a)->liveInstances() == 2; }, 5s);
  CHECK(seen_by_a.back() == 2);

  const file::FileIdentity id{1, 2, 3, std::chrono::system_clock::time_point{1'700'000'000s}};
  const Claims::Key key{"p", "x.txt", id};
  std::optional<Result<Claims::Claimed>> got;
  (*b)->claim(key, [&](Result<Claims::Claimed> r) { got = std::move(r); });
  loop.runUntil([&] { return got.has_value(); });
  REQUIRE(*got);
  REQUIRE((*got)->held);

  // b stops cleanly: its claim is free at once (not after the lease) and
  // a counts one instance again.
  bool given_back = false;
  (*b)->giveBack([&] { given_back = true; });
  loop.runUntil([&] { return given_back; });
  CHECK((*b)->held() == 0);
  std::optional<Result<Claims::Claimed>> taken;
  (*a)->claim(key, [&](Result<Claims::Claimed> r) { taken = std::move(r); });
  loop.runUntil([&] { return taken.has_value(); });
  REQUIRE(*taken);
  CHECK((*taken)->held);
  loop.runUntil([&] { return (*a)->liveInstances() == 1; }, 5s);
  CHECK(seen_by_a.back() == 1);

  b->reset();
  a->reset();
  loop.runUntil([&] { return !store_a->busy() && !store_b->busy(); });
}

}  // namespace
}  // namespace dropd::pipeline
