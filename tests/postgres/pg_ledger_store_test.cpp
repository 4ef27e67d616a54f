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
#include <fmt/format.h>
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

// Fails (psql's exit status non-zero) unless `condition` holds: a division
// by zero otherwise. (PgCluster::psql quotes for a shell: no $ or ".)
bool holds(const std::string& dbname, const std::string& condition) {
  return test::PgCluster::get().psql(
             dbname, "SELECT 1 / (CASE WHEN " + condition + " THEN 1 ELSE 0 END)") == 0;
}

TEST_CASE("PgLedgerStore upgrades a schema 2 database and keeps its rows", "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  const std::string url = test::PgCluster::get().createDatabase();
  const std::string dbname = url.substr(url.rfind('=') + 1);
  const auto all = PgLedgerStore::migrationsForTest();
  REQUIRE(all.size() >= 3);
  auto v2 = startOpen(loop, captured.log, {url, std::nullopt}, all.first(2));
  loop.runUntil([&] { return v2->ready.has_value(); });
  REQUIRE(*v2->ready);
  REQUIRE(holds(dbname, "(SELECT version FROM dropd_schema) = 2"));
  // Rows as a schema 2 dropd wrote them: two hosts' rows of one file that
  // only dev tells apart (the newer, id 2, is kept), another file's row, a
  // try and a claim (claims are dropped by the upgrade).
  const std::string cols =
      "INSERT INTO dropd_jobs (pipeline, rel, dev, ino, size, mtime_ns, sha256, state, attempts, "
      "last_error, result_path, source_moved_to, created_at, updated_at) VALUES ";
  REQUIRE(test::PgCluster::get().psql(
              dbname, cols + "('p', 'a.txt', 1, 7, 10, 5, 'h1', 1, 1, '', '/o/a1', '', 1, 1), "
                             "('p', 'a.txt', 2, 7, 10, 5, 'h2', 1, 1, '', '/o/a2', '', 2, 2), "
                             "('p', 'b.txt', 1, 8, 10, 5, 'h3', 2, 3, 'bad', '/o/b', '', 3, 3)") ==
          0);
  REQUIRE(test::PgCluster::get().psql(
              dbname,
              "INSERT INTO dropd_extract_tries VALUES ('p', 'c.pdf', 1, 9, 10, 5, 2, 'x', 4); "
              "INSERT INTO dropd_claims VALUES ('p', 'd.txt', 1, 3, 1, 1, 'old:1:1', now())") == 0);
  v2.reset();

  std::optional<Status> ready;
  auto current = PgLedgerStore::open(loop.get(), captured.log, {url, std::nullopt},
                                     [&ready](Status st) { ready = std::move(st); });
  REQUIRE(current);
  loop.runUntil([&] { return ready.has_value(); });
  INFO((*ready ? std::string() : ready->error().message()));
  REQUIRE(*ready);
  CHECK(holds(dbname, "(SELECT version FROM dropd_schema) = " +
                          std::to_string(PgLedgerStore::schemaVersion())));
  CHECK(holds(dbname, "(SELECT count(*) FROM dropd_jobs) = 2"));
  CHECK(holds(dbname, "(SELECT sha256 FROM dropd_jobs WHERE rel = 'a.txt') = 'h2'"));
  CHECK(holds(dbname,
              "(SELECT last_error FROM dropd_jobs WHERE rel = 'b.txt') = 'bad' AND "
              "(SELECT holder FROM dropd_jobs WHERE rel = 'b.txt') = ''"));
  CHECK(holds(dbname, "(SELECT tries FROM dropd_extract_tries) = 2"));
  CHECK(holds(dbname, "(SELECT count(*) FROM dropd_claims) = 0"));
  CHECK(holds(dbname, "(SELECT count(*) FROM dropd_instances) = 0"));

  // The upgraded rows answer through the store: the kept row is found on
  // its key without dev, whatever dev the asking host has.
  std::optional<Result<std::vector<std::optional<pipeline::LedgerStore::Finished>>>> found;
  const file::FileIdentity id{99, 7, 10, std::chrono::system_clock::time_point{5ns}};
  (*current)->findAll("p", {{"a.txt", id}}, [&](auto r) { found = std::move(r); });
  loop.runUntil([&] { return found.has_value(); });
  REQUIRE(*found);
  REQUIRE((*found)->size() == 1);
  CHECK((**found)[0].has_value());

  SECTION("after which a schema 2 dropd is refused, clearly") {
    auto older = startOpen(loop, captured.log, {url, std::nullopt}, all.first(2));
    loop.runUntil([&] { return older->ready.has_value(); });
    REQUIRE_FALSE(*older->ready);
    CHECK_THAT(older->ready->error().message(),
               Catch::Contains(fmt::format("schema in this database is version {}, newer than "
                                           "this dropd's (2): upgrade dropd",
                                           PgLedgerStore::schemaVersion())));
  }
}

TEST_CASE("PgLedgerStore counts an instance live for a lease after its heartbeat", "[postgres]") {
  test::LoopFixture loop;
  CapturedLog captured;
  const std::string url = test::PgCluster::get().createDatabase();
  std::optional<Status> ready;
  auto store = PgLedgerStore::open(loop.get(), captured.log, {url, std::nullopt},
                                   [&ready](Status st) { ready = std::move(st); });
  REQUIRE(store);
  loop.runUntil([&] { return ready.has_value(); });
  REQUIRE(*ready);
  const auto beat = [&](const std::string& holder, std::chrono::seconds lease) {
    std::optional<Result<std::uint32_t>> live;
    (*store)->heartbeat(holder, lease, [&](Result<std::uint32_t> r) { live = r; });
    loop.runUntil([&] { return live.has_value(); });
    REQUIRE(*live);
    return **live;
  };
  CHECK(beat("a:1:1", 30s) == 1);
  CHECK(beat("b:2:2", 30s) == 2);
  // Seen longer ago than a lease of 0 s: a is no longer counted.
  CHECK(beat("b:2:2", 0s) == 1);
  CHECK(beat("b:2:2", 30s) == 2);
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
  CHECK_THAT((*store)->unreachable(), Catch::Contains((*store)->where()));  // for /readyz

  cluster.start();
  loop.runUntil([&] { return recorded.has_value() && stats.has_value(); }, 20s);
  CHECK(*recorded);
  REQUIRE(*stats);
  CHECK(stats->value().done == 2);
  CHECK((*store)->unreachable().empty());
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
