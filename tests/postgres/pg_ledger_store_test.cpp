// What only the PostgreSQL backend has: a schema shared by instances
// (migrations under a lock, a newer schema refused) and a server that can
// go away and come back.
#include "dropd/postgres/pg_ledger_store.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include "support/loop_fixture.hpp"
#include "support/pg_cluster.hpp"

namespace dropd::postgres {
namespace {

using namespace std::chrono_literals;

// A logger whose lines the test reads.
struct CapturedLog {
  std::ostringstream lines;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::ostream_sink_st>(lines)};
  [[nodiscard]] bool has(std::string_view what) const {
    return lines.str().find(what) != std::string::npos;
  }
};

struct Opened {
  std::unique_ptr<PgLedgerStore> store;
  std::optional<Status> ready;
};

std::unique_ptr<Opened> startOpen(test::LoopFixture& loop, spdlog::logger& log,
                                  const PgLedgerOptions& options,
                                  std::span<const std::string_view> steps) {
  auto opened = std::make_unique<Opened>();
  Opened* raw = opened.get();
  auto store = PgLedgerStore::openWithMigrationsForTest(
      loop.get(), log, options, [raw](Status st) { raw->ready = std::move(st); }, steps);
  REQUIRE(store);
  opened->store = std::move(*store);
  return opened;
}

constexpr std::string_view kStepA = "CREATE TABLE dropd_test_a (x integer);";
constexpr std::string_view kStepB = "CREATE TABLE dropd_test_b (x integer);";

TEST_CASE("PgLedgerStore migrates once under the lock and refuses a newer schema", "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  const std::string url = test::PgCluster::get().createDatabase();
  const std::string dbname = url.substr(url.rfind('=') + 1);
  const std::vector<std::string_view> one = {kStepA};
  const std::vector<std::string_view> two = {kStepA, kStepB};

  // Three instances start together on an empty database: one migrates,
  // the others wait for its lock and find the steps done.
  std::vector<std::unique_ptr<Opened>> opened;
  for (int i = 0; i < 3; ++i) {
    opened.push_back(startOpen(loop, captured.log, {url, std::nullopt}, one));
  }
  loop.runUntil([&] {
    return std::all_of(opened.begin(), opened.end(), [](auto& o) { return o->ready.has_value(); });
  });
  for (auto& o : opened) {
    INFO((*o->ready ? std::string() : o->ready->error().message()));
    CHECK(*o->ready);
  }
  CHECK(test::PgCluster::get().psql(dbname, "SELECT x FROM dropd_test_a") == 0);
  CHECK(test::PgCluster::get().psql(dbname, "SELECT x FROM dropd_test_b") != 0);

  SECTION("a newer binary adds its step") {
    auto newer = startOpen(loop, captured.log, {url, std::nullopt}, two);
    loop.runUntil([&] { return newer->ready.has_value(); });
    CHECK(*newer->ready);
    CHECK(test::PgCluster::get().psql(dbname, "SELECT x FROM dropd_test_b") == 0);

    SECTION("after which an older one is refused, clearly") {
      auto older = startOpen(loop, captured.log, {url, std::nullopt}, one);
      loop.runUntil([&] { return older->ready.has_value(); });
      REQUIRE_FALSE(*older->ready);
      CHECK_THAT(older->ready->error().message(),
                 Catch::Contains("schema in this database is version 2, newer than this "
                                 "dropd's (1): upgrade dropd"));
      CHECK_FALSE(older->store->ready());
    }
  }
}

TEST_CASE("PgLedgerStore refuses a url libpq cannot parse", "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  auto store = PgLedgerStore::open(loop.get(), captured.log, {"host=127.0.0.1 port", std::nullopt},
                                   [](Status) {});
  REQUIRE_FALSE(store);
  CHECK_THAT(store.error().message(), Catch::Contains("ledger.url is not a libpq connection"));
}

TEST_CASE("PgLedgerStore waits while the server is down and goes on when it is back",
          "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  test::PgCluster& cluster = test::PgCluster::get();
  const std::string url = cluster.createDatabase();
  const std::string password = "pw-that-must-not-be-logged";
  std::optional<Status> ready;
  auto store = PgLedgerStore::open(loop.get(), captured.log, {url, password},
                                   [&ready](Status st) { ready = std::move(st); });
  REQUIRE(store);
  loop.runUntil([&] { return ready.has_value(); });
  REQUIRE(*ready);
  CHECK((*store)->where() == "postgres://dropd@127.0.0.1:" + std::to_string(cluster.port()) + "/" +
                                 url.substr(url.rfind('=') + 1));

  pipeline::LedgerRow row;
  row.pipeline = "p";
  row.rel = "a.txt";
  row.identity = {1, 2, 3, std::chrono::system_clock::time_point{1'700'000'000s}};
  std::optional<Status> recorded;
  (*store)->record({row}, [&](Status st) { recorded = std::move(st); });
  loop.runUntil([&] { return recorded.has_value(); });
  REQUIRE(*recorded);

  cluster.stop();
  recorded.reset();
  std::optional<Result<pipeline::LedgerStats>> stats;
  row.rel = "b.txt";
  (*store)->record({row}, [&](Status st) { recorded = std::move(st); });
  (*store)->stats([&](Result<pipeline::LedgerStats> s) { stats = std::move(s); });
  loop.runUntil([&] { return captured.has("ledger.postgres_down"); });
  CHECK_FALSE(recorded.has_value());  // waiting, not failed
  CHECK((*store)->busy());

  cluster.start();
  loop.runUntil([&] { return recorded.has_value() && stats.has_value(); }, 20s);
  CHECK(*recorded);
  REQUIRE(*stats);
  CHECK(stats->value().done == 2);
  CHECK((*store)->reconnectsForTest() >= 1);
  CHECK(captured.has("ledger.postgres_up"));
  CHECK_FALSE(captured.has(password));
}

TEST_CASE("PgLedgerStore claims: one holder at a time until the lease expires", "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  const std::string url = test::PgCluster::get().createDatabase();
  std::optional<Status> ready_a;
  std::optional<Status> ready_b;
  auto a = PgLedgerStore::open(loop.get(), captured.log, {url, std::nullopt},
                               [&](Status st) { ready_a = std::move(st); });
  auto b = PgLedgerStore::open(loop.get(), captured.log, {url, std::nullopt},
                               [&](Status st) { ready_b = std::move(st); });
  REQUIRE(a);
  REQUIRE(b);
  loop.runUntil([&] { return ready_a.has_value() && ready_b.has_value(); });
  REQUIRE(*ready_a);
  REQUIRE(*ready_b);
  const file::FileIdentity id{1, 2, 3, std::chrono::system_clock::time_point{1'700'000'000s}};
  const std::vector<pipeline::LedgerStore::TryKey> keys = {{"p", "x", id}, {"p", "y", id}};
  auto ask = [&](PgLedgerStore& store, const std::string& holder,
                 std::vector<pipeline::LedgerStore::TryKey> which, std::chrono::seconds lease) {
    std::optional<Result<std::vector<bool>>> out;
    store.claim(holder, std::move(which), lease, [&](Result<std::vector<bool>> r) { out = r; });
    loop.runUntil([&] { return out.has_value(); });
    REQUIRE(*out);
    return **out;
  };
  CHECK(ask(**a, "a", {keys[0]}, 30s) == std::vector<bool>{true});
  // b gets the free file only; a's claim on x holds.
  CHECK(ask(**b, "b", keys, 30s) == std::vector<bool>{false, true});

  std::optional<Result<std::vector<bool>>> renewed;
  (*b)->renew("b", keys, 30s, [&](Result<std::vector<bool>> r) { renewed = r; });
  loop.runUntil([&] { return renewed.has_value(); });
  REQUIRE(*renewed);
  CHECK(**renewed == std::vector<bool>{false, true});  // b never held x: renewal says so

  SECTION("an expired lease goes to the next holder, and its old holder learns it lost it") {
    CHECK(ask(**a, "a", {keys[0]}, 0s) == std::vector<bool>{true});  // expires at once
    CHECK(ask(**b, "b", {keys[0]}, 30s) == std::vector<bool>{true});
    std::optional<Result<std::vector<bool>>> lost;
    (*a)->renew("a", {keys[0]}, 30s, [&](Result<std::vector<bool>> r) { lost = r; });
    loop.runUntil([&] { return lost.has_value(); });
    REQUIRE(*lost);
    CHECK(**lost == std::vector<bool>{false});
  }
  SECTION("a released file is free at once") {
    std::optional<Status> released;
    (*a)->release("a", {keys[0]}, [&](Status st) { released = st; });
    loop.runUntil([&] { return released.has_value(); });
    REQUIRE(*released);
    CHECK(ask(**b, "b", {keys[0]}, 30s) == std::vector<bool>{true});
  }
}

TEST_CASE("PgLedgerStore fences a record on its claims, with a key that leaves dev out",
          "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  const std::string url = test::PgCluster::get().createDatabase();
  std::optional<Status> ready_a;
  std::optional<Status> ready_b;
  auto a = PgLedgerStore::open(loop.get(), captured.log, {url, std::nullopt},
                               [&](Status st) { ready_a = std::move(st); });
  auto b = PgLedgerStore::open(loop.get(), captured.log, {url, std::nullopt},
                               [&](Status st) { ready_b = std::move(st); });
  REQUIRE(a);
  REQUIRE(b);
  loop.runUntil([&] { return ready_a.has_value() && ready_b.has_value(); });
  REQUIRE(*ready_a);
  REQUIRE(*ready_b);
  const file::FileIdentity id{1, 2, 3, std::chrono::system_clock::time_point{1'700'000'000s}};
  file::FileIdentity on_b = id;
  on_b.dev = 77;  // the same file through another host's mount
  using Key = pipeline::LedgerStore::TryKey;
  auto ask = [&](PgLedgerStore& store, const std::string& holder, std::vector<Key> which,
                 std::chrono::seconds lease) {
    std::optional<Result<std::vector<bool>>> out;
    store.claim(holder, std::move(which), lease, [&](Result<std::vector<bool>> r) { out = r; });
    loop.runUntil([&] { return out.has_value(); });
    REQUIRE(*out);
    return **out;
  };
  auto row = [](const std::string& rel, const file::FileIdentity& identity) {
    pipeline::LedgerRow r;
    r.pipeline = "p";
    r.rel = rel;
    r.identity = identity;
    r.result_path = "/out/" + rel + ".json";
    return r;
  };
  auto fence = [&](PgLedgerStore& store, const std::string& holder,
                   std::vector<pipeline::LedgerRow> rows) {
    std::optional<Result<std::vector<bool>>> out;
    store.recordClaimed(holder, std::move(rows), [&](Result<std::vector<bool>> r) { out = r; });
    loop.runUntil([&] { return out.has_value(); });
    REQUIRE(*out);
    return **out;
  };
  auto found = [&](PgLedgerStore& store, const file::FileIdentity& identity) {
    std::optional<Result<std::vector<std::optional<pipeline::LedgerStore::Finished>>>> out;
    store.findAll("p", {{"x", identity}, {"y", identity}}, [&](auto r) { out = std::move(r); });
    loop.runUntil([&] { return out.has_value(); });
    REQUIRE(*out);
    return std::vector<bool>{(**out)[0].has_value(), (**out)[1].has_value()};
  };

  CHECK(ask(**a, "a", {{"p", "x", id}}, 30s) == std::vector<bool>{true});
  // The key has no dev: b's view of the same file is the same claim.
  CHECK(ask(**b, "b", {{"p", "x", on_b}, {"p", "y", on_b}}, 30s) == std::vector<bool>{false, true});

  SECTION("only the holder's rows are written, and their claims end with them") {
    CHECK(fence(**a, "a", {row("x", id), row("y", id)}) == std::vector<bool>{true, false});
    CHECK(found(**b, on_b) == std::vector<bool>{true, false});  // found through b's dev too
    CHECK(ask(**b, "b", {{"p", "x", on_b}}, 30s) == std::vector<bool>{true});  // x is free
    CHECK(fence(**b, "b", {row("y", on_b), row("y", on_b)}) == std::vector<bool>{true, true});
    CHECK(found(**a, id) == std::vector<bool>{true, true});
  }
  SECTION("a holder whose lease expired and was taken writes nothing") {
    CHECK(ask(**a, "a", {{"p", "x", id}}, 0s) == std::vector<bool>{true});  // expires at once
    CHECK(ask(**b, "b", {{"p", "x", on_b}}, 30s) == std::vector<bool>{true});
    CHECK(fence(**a, "a", {row("x", id)}) == std::vector<bool>{false});
    CHECK(found(**a, id) == std::vector<bool>{false, false});
    CHECK(fence(**b, "b", {row("x", on_b)}) == std::vector<bool>{true});
    CHECK(found(**a, id) == std::vector<bool>{true, false});
  }
}

}  // namespace
}  // namespace dropd::postgres
