// The ledger's contract (include/dropd/pipeline/ledger_store.hpp): every
// case runs against both backends, SQLite in a temp folder and PostgreSQL
// in a fresh database of the run's throwaway cluster (support/pg_cluster).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dropd/pipeline/sqlite_ledger_store.hpp"
#include "dropd/postgres/pg_ledger_store.hpp"

#include "support/loop_fixture.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"

namespace dropd::pipeline {
namespace {

using namespace std::chrono_literals;
constexpr std::chrono::sys_seconds kT0{std::chrono::seconds{1'700'000'000}};

spdlog::logger& quietLog() {
  static spdlog::logger log("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  return log;
}

// Runs the loop until `start`'s callback has its value.
template <typename R, typename F>
R await(test::LoopFixture& loop, F&& start) {
  std::optional<R> out;
  start([&out](R r) { out.emplace(std::move(r)); });
  loop.runUntil([&] { return out.has_value(); });
  REQUIRE(out.has_value());
  return std::move(*out);
}

// A store of the backend under test, ready (schema current) when made.
std::unique_ptr<LedgerStore> openStore(const std::string& backend, test::LoopFixture& loop,
                                       const test::TempDir& dir) {
  if (backend == "sqlite") {
    auto store = SqliteLedgerStore::open(loop.get(), dir.path());
    REQUIRE(store);
    return std::move(*store);
  }
  const std::string url = test::PgCluster::get().createDatabase();
  std::optional<Status> ready;
  auto store = postgres::PgLedgerStore::open(loop.get(), quietLog(), {url, std::nullopt},
                                             [&ready](Status st) { ready = std::move(st); });
  REQUIRE(store);
  loop.runUntil([&] { return ready.has_value(); });
  INFO((*ready ? std::string() : ready->error().message()));
  REQUIRE(*ready);
  return std::move(*store);
}

LedgerRow makeRow(std::string rel, std::uint64_t ino, LedgerState state = LedgerState::kDone) {
  LedgerRow row;
  row.pipeline = "p";
  row.rel = std::move(rel);
  row.identity = {.dev = 2049,
                  .ino = ino,
                  .size = 100 + ino,
                  .mtime = std::chrono::system_clock::time_point{1'700'000'000'123'456'789ns}};
  row.sha256 = std::string(64, 'a');
  row.state = state;
  row.prompt_version = state == LedgerState::kDone ? "p1-0123456789abcdef" : "";
  row.attempts = 1;
  row.last_error = state == LedgerState::kFailed ? "HTTP 400: bad request" : "";
  row.result_path = "/out/" + row.rel + ".json";
  row.source_moved_to = "/done/" + row.rel;
  row.created_at = kT0;
  row.updated_at = kT0;
  return row;
}

std::vector<LedgerRow> allRows(test::LoopFixture& loop, LedgerStore& store,
                               const std::string& pipeline, std::size_t page = 1000) {
  std::vector<LedgerRow> seen;
  const Status st = await<Status>(loop, [&](auto cb) {
    store.forEachRow(
        pipeline, page,
        [&seen](std::vector<LedgerRow>&& rows) {
          for (auto& r : rows) {
            seen.push_back(std::move(r));
          }
        },
        cb);
  });
  REQUIRE(st);
  return seen;
}

#define DROPD_BACKENDS() GENERATE(as<std::string>{}, "sqlite", "postgres")

TEST_CASE("LedgerStore records a batch and finds each file version by its key", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  CHECK(store->backend() == backend);

  std::vector<LedgerRow> rows = {makeRow("a.txt", 1), makeRow("sub/b.txt", 2),
                                 makeRow("c.txt", 3, LedgerState::kFailed)};
  REQUIRE(await<Status>(loop, [&](auto cb) { store->record(rows, cb); }));

  std::vector<LedgerStore::LookupKey> keys = {{"a.txt", rows[0].identity},
                                              {"nope.txt", rows[0].identity},
                                              {"c.txt", rows[2].identity},
                                              {"a.txt", makeRow("a.txt", 9).identity}};
  auto found = await<Result<std::vector<std::optional<LedgerStore::Finished>>>>(
      loop, [&](auto cb) { store->findAll("p", keys, cb); });
  REQUIRE(found);
  REQUIRE(found->size() == 4);
  REQUIRE((*found)[0]);
  CHECK((*found)[0]->done);
  CHECK((*found)[0]->result_path == "/out/a.txt.json");
  CHECK_FALSE((*found)[1]);
  REQUIRE((*found)[2]);
  CHECK_FALSE((*found)[2]->done);
  CHECK_FALSE((*found)[3]);  // another version of a.txt

  auto other = await<Result<std::vector<std::optional<LedgerStore::Finished>>>>(
      loop, [&](auto cb) { store->findAll("q", keys, cb); });
  REQUIRE(other);
  CHECK_FALSE((*other)[0]);  // rows belong to their pipeline

  CHECK(allRows(loop, *store, "p") == rows);
  auto stats = await<Result<LedgerStats>>(loop, [&](auto cb) { store->stats(cb); });
  REQUIRE(stats);
  CHECK(*stats == LedgerStats{2, 1});
}

TEST_CASE("LedgerStore record upserts on the key and keeps the first created_at", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);

  LedgerRow first = makeRow("a.txt", 1, LedgerState::kFailed);
  REQUIRE(await<Status>(loop, [&](auto cb) { store->record({first}, cb); }));
  LedgerRow again = makeRow("a.txt", 1);
  again.attempts = 3;
  again.created_at = kT0 + 60s;
  again.updated_at = kT0 + 60s;
  SECTION("in a later batch") {
    REQUIRE(await<Status>(loop, [&](auto cb) { store->record({again}, cb); }));
  }
  SECTION("twice in one batch: the last wins") {
    REQUIRE(await<Status>(loop, [&](auto cb) { store->record({first, again}, cb); }));
  }
  const auto rows = allRows(loop, *store, "p");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].state == LedgerState::kDone);
  CHECK(rows[0].attempts == 3);
  CHECK(rows[0].created_at == kT0);
  CHECK(rows[0].updated_at == kT0 + 60s);

  auto latest = await<Result<std::optional<LedgerStore::History>>>(
      loop, [&](auto cb) { store->latest("p", "a.txt", cb); });
  REQUIRE(latest);
  REQUIRE(*latest);
  CHECK((*latest)->done);
  CHECK((*latest)->attempts == 3);
  CHECK((*latest)->updated_at == (kT0 + 60s).time_since_epoch().count());
  auto none = await<Result<std::optional<LedgerStore::History>>>(
      loop, [&](auto cb) { store->latest("p", "b.txt", cb); });
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("LedgerStore keeps any bytes of a path and all 64 bits of an identity", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);

  LedgerRow row = makeRow(std::string("caf\xe9 \"q\" \\ {x}, y.txt"), 1);  // Latin-1, not UTF-8
  row.identity.ino = 0xFFFF'FFFF'FFFF'FFFEull;
  row.identity.dev = 1ull << 63;
  row.last_error = "bad byte \xff";
  row.state = LedgerState::kFailed;
  REQUIRE(await<Status>(loop, [&](auto cb) { store->record({row}, cb); }));
  CHECK(allRows(loop, *store, "p") == std::vector<LedgerRow>{row});
  auto found = await<Result<std::vector<std::optional<LedgerStore::Finished>>>>(loop, [&](auto cb) {
    store->findAll("p", {{row.rel, row.identity}}, cb);
  });
  REQUIRE(found);
  CHECK((*found)[0].has_value());
}

TEST_CASE("LedgerStore streams a pipeline's rows in pages, oldest first", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  std::vector<LedgerRow> rows;
  for (std::uint64_t i = 0; i < 25; ++i) {
    rows.push_back(makeRow("f" + std::to_string(i), i));
  }
  REQUIRE(await<Status>(loop, [&](auto cb) { store->record(rows, cb); }));
  std::size_t pages = 0;
  std::vector<LedgerRow> seen;
  const Status st = await<Status>(loop, [&](auto cb) {
    store->forEachRow(
        "p", 10,
        [&](std::vector<LedgerRow>&& page) {
          ++pages;
          CHECK(page.size() <= 10);
          seen.insert(seen.end(), page.begin(), page.end());
        },
        cb);
  });
  REQUIRE(st);
  CHECK(pages == 3);
  CHECK(seen == rows);
  CHECK(allRows(loop, *store, "empty").empty());
}

TEST_CASE("LedgerStore forget removes a path, a folder or the failed rows", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  REQUIRE(await<Status>(loop, [&](auto cb) {
    store->record({makeRow("a/x", 1), makeRow("a/y", 2, LedgerState::kFailed), makeRow("ab", 3),
                   makeRow("a", 4)},
                  cb);
  }));
  auto forget = [&](ForgetFilter f) {
    auto n = await<Result<std::size_t>>(loop, [&](auto cb) { store->forget(f, cb); });
    REQUIRE(n);
    return *n;
  };
  SECTION("a folder: itself and what is under it, not its siblings") {
    CHECK(forget({"p", "a/"}) == 3);
    CHECK(allRows(loop, *store, "p").size() == 1);
  }
  SECTION("only the failed rows") {
    CHECK(forget({"p", "", true}) == 1);
    CHECK(forget({"q"}) == 0);
    CHECK(forget({"p"}) == 3);
  }
}

TEST_CASE("LedgerStore counts extraction tries until max_tries and ends them on record",
          "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  const LedgerStore::TryKey key{"p", "a.pdf", makeRow("a.pdf", 7).identity};
  auto begin = [&](std::string why) {
    auto t = await<Result<LedgerStore::Try>>(
        loop, [&](auto cb) { store->beginTry(key, 2, std::move(why), cb); });
    REQUIRE(t);
    return *t;
  };
  auto count = [&] {
    auto n = await<Result<std::uint32_t>>(loop, [&](auto cb) { store->countTries(key, cb); });
    REQUIRE(n);
    return *n;
  };
  const auto first = begin("");
  CHECK(first.allowed);
  CHECK(first.tries == 0);
  CHECK(first.last_error.empty());
  const auto second = begin("");
  CHECK(second.allowed);
  CHECK(second.tries == 1);
  CHECK(second.last_error == "dropd stopped while the file was extracted");
  const auto third = begin("killed by SIGSEGV");
  CHECK_FALSE(third.allowed);
  CHECK(third.tries == 2);
  CHECK(third.last_error == "killed by SIGSEGV");
  CHECK(count() == 2);  // a refused try is not counted

  SECTION("undo takes one back, never below 0") {
    REQUIRE(await<Status>(loop, [&](auto cb) { store->undoTry(key, cb); }));
    CHECK(count() == 1);
    REQUIRE(await<Status>(loop, [&](auto cb) { store->undoTry(key, cb); }));
    REQUIRE(await<Status>(loop, [&](auto cb) { store->undoTry(key, cb); }));
    CHECK(count() == 0);
  }
  SECTION("recording the file ends its tries, only if it was extracted") {
    LedgerRow row = makeRow("a.pdf", 7);
    REQUIRE(await<Status>(loop, [&](auto cb) { store->record({row}, cb); }));
    CHECK(count() == 2);
    row.extracted = true;
    REQUIRE(await<Status>(loop, [&](auto cb) { store->record({row}, cb); }));
    CHECK(count() == 0);
  }
}

TEST_CASE("LedgerStore claims: a holder gets, renews and releases its files", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  const std::vector<LedgerStore::TryKey> keys = {{"p", "a.txt", makeRow("a.txt", 1).identity},
                                                 {"p", "b.txt", makeRow("b.txt", 2).identity}};
  auto claimed = await<Result<std::vector<bool>>>(
      loop, [&](auto cb) { store->claim("host-a:1:100", keys, 30s, cb); });
  REQUIRE(claimed);
  CHECK(*claimed == std::vector<bool>{true, true});
  auto again = await<Result<std::vector<bool>>>(
      loop, [&](auto cb) { store->claim("host-a:1:100", keys, 30s, cb); });
  REQUIRE(again);
  CHECK(*again == std::vector<bool>{true, true});  // its own claims: taken again
  auto renewed = await<Result<std::vector<bool>>>(
      loop, [&](auto cb) { store->renew("host-a:1:100", keys, 30s, cb); });
  REQUIRE(renewed);
  CHECK(*renewed == std::vector<bool>{true, true});
  REQUIRE(await<Status>(loop, [&](auto cb) { store->release("host-a:1:100", keys, cb); }));
  auto none = await<Result<std::vector<bool>>>(
      loop, [&](auto cb) { store->claim("host-a:1:100", {}, 30s, cb); });
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("LedgerStore heartbeats count the live instances, each once", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  const auto beat = [&](const std::string& holder) {
    auto live =
        await<Result<std::uint32_t>>(loop, [&](auto cb) { store->heartbeat(holder, 30s, cb); });
    REQUIRE(live);
    return *live;
  };
  // SQLite is a fleet of one: every answer is 1.
  const bool fleet = backend == "postgres";
  CHECK(beat("host-a:1:100") == 1);
  CHECK(beat("host-b:2:100") == (fleet ? 2u : 1u));
  CHECK(beat("host-a:1:100") == (fleet ? 2u : 1u));  // a second beat is the same instance
  CHECK(beat("host-c:3:100") == (fleet ? 3u : 1u));
  REQUIRE(await<Status>(loop, [&](auto cb) { store->leave("host-b:2:100", cb); }));
  CHECK(beat("host-a:1:100") == (fleet ? 2u : 1u));
  REQUIRE(await<Status>(loop, [&](auto cb) { store->leave("host-b:2:100", cb); }));  // again: fine
  CHECK(store->unreachable().empty());
}

TEST_CASE("LedgerStore records a claimed file's row and ends its claim", "[postgres]") {
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  const LedgerRow a = makeRow("a.txt", 1);
  const LedgerRow b = makeRow("b.txt", 2, LedgerState::kFailed);
  auto claimed = await<Result<std::vector<bool>>>(loop, [&](auto cb) {
    store->claim("host-a:1:100", {{"p", a.rel, a.identity}, {"p", b.rel, b.identity}}, 30s, cb);
  });
  REQUIRE(claimed);
  auto written = await<Result<std::vector<bool>>>(loop, [&](auto cb) {
    store->recordClaimed("host-a:1:100", {a, b}, cb);
  });
  REQUIRE(written);
  CHECK(*written == std::vector<bool>{true, true});
  CHECK(allRows(loop, *store, "p") == std::vector<LedgerRow>{a, b});
  // The claims ended with the rows: another holder gets the files at once.
  auto other = await<Result<std::vector<bool>>>(loop, [&](auto cb) {
    store->claim("host-b:2:200", {{"p", a.rel, a.identity}}, 30s, cb);
  });
  REQUIRE(other);
  CHECK(*other == std::vector<bool>{true});
}

TEST_CASE("LedgerStore keeps chunk answers per content and prompt version", "[postgres]") {
  using dropd::pipeline::ChunkAnswer;
  using dropd::pipeline::ChunkKey;
  const std::string backend = DROPD_BACKENDS();
  CAPTURE(backend);
  test::LoopFixture loop;
  test::TempDir dir;
  auto store = openStore(backend, loop, dir);
  const ChunkKey key{"p", std::string(64, 'a'), "p1-0123456789abcdef"};
  const auto load = [&](const ChunkKey& k) {
    auto got =
        await<Result<std::vector<ChunkAnswer>>>(loop, [&](auto cb) { store->chunkAnswers(k, cb); });
    REQUIRE(got);
    return *got;
  };
  CHECK(load(key).empty());
  const ChunkAnswer a{0, 1, "second chunk", 3000, 40};
  const ChunkAnswer b{0, 0, std::string("first\0chunk \xc3\xa9", 14), 2900, 41};
  const ChunkAnswer c{1, 0, "a reduce answer", 90, 12};
  for (const ChunkAnswer& answer : {a, b, c}) {
    REQUIRE(await<Status>(loop, [&](auto cb) { store->recordChunk(key, answer, cb); }));
  }
  CHECK(load(key) == std::vector<ChunkAnswer>{b, a, c});  // by level, then index

  ChunkAnswer again = a;
  again.text = "second chunk, answered again";
  REQUIRE(await<Status>(loop, [&](auto cb) { store->recordChunk(key, again, cb); }));
  CHECK(load(key) == std::vector<ChunkAnswer>{b, again, c});

  CHECK(load({"p", std::string(64, 'b'), key.prompt_version}).empty());  // other content
  CHECK(load({"p", key.sha256, "p1-fedcba9876543210"}).empty());         // other prompt
  CHECK(load({"q", key.sha256, key.prompt_version}).empty());            // other pipeline

  auto forgot = await<Result<std::size_t>>(loop, [&](auto cb) { store->forgetChunks(key, cb); });
  REQUIRE(forgot);
  CHECK(*forgot == 3);
  CHECK(load(key).empty());
}

}  // namespace
}  // namespace dropd::pipeline
