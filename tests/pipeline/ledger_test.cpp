#include "dropd/pipeline/ledger.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sqlite3.h>

#include "support/temp_dir.hpp"

using dropd::pipeline::FileSystemKind;
using dropd::pipeline::fileSystemKind;
using dropd::pipeline::fileSystemName;
using dropd::pipeline::ForgetFilter;
using dropd::pipeline::Ledger;
using dropd::pipeline::LedgerRow;
using dropd::pipeline::LedgerState;
using dropd::pipeline::LedgerStats;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::sys_seconds kT0{std::chrono::seconds{1'700'000'000}};

LedgerRow makeRow(std::string rel, std::uint64_t ino, std::string sha,
                  LedgerState state = LedgerState::kDone) {
  LedgerRow row;
  row.pipeline = "p";
  row.rel = std::move(rel);
  row.identity = {.dev = 2049,
                  .ino = ino,
                  .size = 100 + ino,
                  .mtime = std::chrono::system_clock::time_point{1'700'000'000'123'456'789ns}};
  row.sha256 = std::move(sha);
  row.state = state;
  row.attempts = 1;
  row.last_error = state == LedgerState::kFailed ? "HTTP 400: bad request" : "";
  row.result_path = "/out/" + row.rel + ".json";
  row.source_moved_to = "/done/" + row.rel;
  row.created_at = kT0;
  row.updated_at = kT0;
  return row;
}

// Runs SQL on a ledger file behind dropd's back, as another program would.
void rawSql(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err != nullptr ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::int64_t rawInt(const fs::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const auto value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// A well-spread 64-hex-digit stand-in for a content hash (splitmix64).
std::string fakeSha256(std::uint64_t seed) {
  std::string out;
  for (int part = 0; part < 4; ++part) {
    std::uint64_t z = (seed * 4 + part + 1) * 0x9E3779B97F4A7C15u;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    out += fmt::format("{:016x}", z ^ (z >> 31));
  }
  return out;
}

std::string openError(const fs::path& state_dir) {
  auto ledger = Ledger::open(state_dir);
  REQUIRE_FALSE(ledger);
  return ledger.error().message();
}

}  // namespace

TEST_CASE("Ledger keeps recorded rows across a reopen", "[pipeline]") {
  dropd::test::TempDir dir;
  const auto state_dir = dir.path() / "state/nested";  // created by open()
  const std::vector<LedgerRow> rows = {makeRow("a.txt", 1, "aa"),
                                       makeRow("sub/b.txt", 2, "bb", LedgerState::kFailed),
                                       makeRow("c.txt", 3, "cc")};
  {
    auto ledger = Ledger::open(state_dir);
    REQUIRE(ledger);
    CHECK((*ledger)->path() == state_dir / "ledger.db");
    REQUIRE((*ledger)->record(rows));
  }
  auto ledger = Ledger::open(state_dir);
  REQUIRE(ledger);
  const auto db_path = state_dir / "ledger.db";

  SECTION("every field comes back as written, in insertion order") {
    const auto loaded = (*ledger)->loadAll();
    REQUIRE(loaded);
    CHECK(*loaded == rows);
  }
  SECTION("stats count rows by state") {
    CHECK((*ledger)->stats() == LedgerStats{.done = 2, .failed = 1});
  }
  SECTION("loadPipeline returns only that pipeline's rows") {
    auto other = makeRow("a.txt", 1, "aa");
    other.pipeline = "q";
    REQUIRE((*ledger)->record({&other, 1}));
    CHECK((*ledger)->loadPipeline("q") == std::vector<LedgerRow>{other});
    CHECK((*ledger)->loadPipeline("p") == rows);
    CHECK((*ledger)->loadPipeline("none")->empty());
  }
  SECTION("the file carries dropd's application_id, schema version and WAL mode") {
    CHECK(rawInt(db_path, "PRAGMA application_id") == Ledger::kApplicationId);
    CHECK(rawInt(db_path, "PRAGMA user_version") == Ledger::schemaVersion());
    CHECK(Ledger::schemaVersion() == 5);
    CHECK(rawInt(db_path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") ==
          1);
  }
  SECTION("uint64 identities above 2^63 survive the int64 column") {
    auto big = makeRow("big.txt", UINT64_MAX, "ff");
    big.identity.dev = (std::uint64_t{1} << 63) + 5;
    REQUIRE((*ledger)->record({&big, 1}));
    CHECK((*ledger)->loadAll()->back() == big);
  }
  SECTION("calls may come from different threads, one at a time") {
    const auto row = makeRow("t.txt", 9, "tt");
    dropd::Status recorded;
    std::thread worker([&] { recorded = (*ledger)->record({&row, 1}); });
    worker.join();
    REQUIRE(recorded);
    CHECK((*ledger)->loadAll()->size() == 4);
  }
  SECTION("an empty batch is a no-op") {
    REQUIRE((*ledger)->record({}));
    CHECK((*ledger)->loadAll()->size() == 3);
  }
}

TEST_CASE("Ledger record upserts on the job key", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger);
  const auto first = makeRow("a.txt", 1, "aa", LedgerState::kFailed);
  REQUIRE((*ledger)->record({&first, 1}));

  SECTION("the same key updates the row and keeps created_at") {
    auto again = first;
    again.state = LedgerState::kDone;
    again.attempts = 3;
    again.last_error.clear();
    again.result_path = "/out/other.json";
    again.source_moved_to.clear();
    again.created_at = kT0 + 100s;
    again.updated_at = kT0 + 100s;
    REQUIRE((*ledger)->record({&again, 1}));
    const auto loaded = (*ledger)->loadAll();
    REQUIRE(loaded->size() == 1);
    auto expected = again;
    expected.created_at = kT0;
    CHECK(loaded->front() == expected);
  }
  SECTION("a rewritten file (new mtime) under the same name is a new row") {
    auto rewritten = first;
    rewritten.identity.mtime += 1ns;
    REQUIRE((*ledger)->record({&rewritten, 1}));
    CHECK((*ledger)->loadAll()->size() == 2);
  }
  SECTION("a batch repeating a key keeps the last one") {
    auto second = first;
    second.attempts = 7;
    const std::vector<LedgerRow> batch = {makeRow("b.txt", 2, "bb"), first, second};
    REQUIRE((*ledger)->record(batch));
    const auto loaded = (*ledger)->loadAll();
    REQUIRE(loaded->size() == 2);
    CHECK(loaded->front().attempts == 7);
  }
}

TEST_CASE("Ledger findBySha returns the earliest done row with that content", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger);
  auto failed = makeRow("f.txt", 1, "same", LedgerState::kFailed);
  failed.created_at = kT0 - 50s;
  auto later = makeRow("later.txt", 2, "same");
  later.created_at = kT0 + 10s;
  auto earlier = makeRow("earlier.txt", 3, "same");
  auto other_pipeline = makeRow("q.txt", 4, "same");
  other_pipeline.pipeline = "q";
  other_pipeline.created_at = kT0 - 100s;
  // Inserted out of time order: the answer must not depend on insertion order.
  REQUIRE((*ledger)->record(std::vector{failed, later, earlier, other_pipeline}));

  const auto found = (*ledger)->findBySha("p", "same");
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->rel == "earlier.txt");
  CHECK((*ledger)->findBySha("q", "same")->value().rel == "q.txt");
  CHECK_FALSE((*ledger)->findBySha("p", "unknown")->has_value());
  CHECK_FALSE((*ledger)->findBySha("none", "same")->has_value());
  CHECK((*ledger)->findBySha("p", "sam")->has_value() == false);
}

TEST_CASE("Ledger forget removes rows for requeue", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger);
  auto other = makeRow("a/x.txt", 9, "q", LedgerState::kFailed);
  other.pipeline = "q";
  REQUIRE((*ledger)->record(std::vector{
      makeRow("a", 1, "1", LedgerState::kFailed), makeRow("a/x.txt", 2, "2", LedgerState::kFailed),
      makeRow("a/y/z.txt", 3, "3"), makeRow("ab.txt", 4, "4", LedgerState::kFailed),
      makeRow("b.txt", 5, "5"), other}));
  const auto rels = [&] {
    std::vector<std::string> out;
    const auto rows = (*ledger)->loadPipeline("p");
    for (const auto& row : *rows) {
      out.push_back(row.rel);
    }
    return out;
  };

  SECTION("all of a pipeline") {
    CHECK((*ledger)->forget({.pipeline = "p"}) == 5u);
    CHECK(rels().empty());
    CHECK((*ledger)->loadPipeline("q")->size() == 1);
  }
  SECTION("only failed rows") {
    CHECK((*ledger)->forget({.pipeline = "p", .only_failed = true}) == 3u);
    CHECK(rels() == std::vector<std::string>{"a/y/z.txt", "b.txt"});
  }
  SECTION("a prefix is the path itself and what is under it, not a longer name") {
    CHECK((*ledger)->forget({.pipeline = "p", .rel_prefix = "a"}) == 3u);
    CHECK(rels() == std::vector<std::string>{"ab.txt", "b.txt"});
  }
  SECTION("a prefix with a trailing slash and only failed") {
    CHECK((*ledger)->forget({.pipeline = "p", .rel_prefix = "a/", .only_failed = true}) == 2u);
    CHECK(rels() == std::vector<std::string>{"a/y/z.txt", "ab.txt", "b.txt"});
  }
  SECTION("a single file") {
    CHECK((*ledger)->forget({.pipeline = "p", .rel_prefix = "a/x.txt"}) == 1u);
    CHECK((*ledger)->forget({.pipeline = "p", .rel_prefix = "nothing"}) == 0u);
    CHECK(rels().size() == 4);
  }
}

TEST_CASE("Ledger open refuses files and folders that are not a usable ledger", "[pipeline]") {
  dropd::test::TempDir dir;
  const auto db_path = dir.path() / "ledger.db";

  SECTION("a ledger from a newer schema") {
    REQUIRE(Ledger::open(dir.path()));
    rawSql(db_path, "PRAGMA user_version = 7");
    CHECK(openError(dir.path()) ==
          db_path.string() +
              " schema 7 is newer than this dropd (5): upgrade dropd or move the file away");
  }
  SECTION("a text file named ledger.db") {
    dir.write("ledger.db", "these are my notes, not a database\n");
    CHECK(openError(dir.path()) ==
          "ledger: " + db_path.string() +
              " is not a dropd ledger (file is not a database): move it away or set state_dir "
              "to another folder");
    CHECK(dropd::test::TempDir::read(db_path) == "these are my notes, not a database\n");
  }
  SECTION("a SQLite file of another application") {
    rawSql(db_path, "PRAGMA application_id = 1234; CREATE TABLE t (x)");
    const auto before = dropd::test::TempDir::read(db_path);
    CHECK(openError(dir.path()) == "ledger: " + db_path.string() +
                                       " is not a dropd ledger (a SQLite database with "
                                       "application_id 0x000004d2, dropd's is 0x64727064): move "
                                       "it away or set state_dir to another folder");
    CHECK(dropd::test::TempDir::read(db_path) == before);  // not even switched to WAL
  }
  SECTION("a SQLite file with tables but no application_id") {
    rawSql(db_path, "CREATE TABLE jobs (x)");
    CHECK_THAT(openError(dir.path()),
               Catch::Contains(db_path.string()) &&
                   Catch::Contains("a SQLite database without dropd's application_id"));
  }
  SECTION("dropd's application_id but our table is missing") {
    rawSql(db_path, fmt::format("PRAGMA application_id = {}; PRAGMA user_version = 1; "
                                "CREATE TABLE other (x)",
                                Ledger::kApplicationId));
    CHECK_THAT(openError(dir.path()),
               Catch::Contains(db_path.string()) && Catch::Contains("no such table: jobs"));
  }
  SECTION("dropd's application_id but a column is missing") {
    rawSql(db_path, fmt::format("PRAGMA application_id = {}; PRAGMA user_version = 1; "
                                "CREATE TABLE jobs (id INTEGER PRIMARY KEY, pipeline, rel)",
                                Ledger::kApplicationId));
    CHECK_THAT(openError(dir.path()),
               Catch::Contains(db_path.string()) && Catch::Contains("not a dropd ledger"));
  }
  SECTION("a state_dir below a regular file (fails for root too)") {
    const auto file = dir.write("plain", "x");
    const auto state_dir = file / "sub";
    CHECK(openError(state_dir) ==
          "ledger: cannot create state_dir " + state_dir.string() + ": not a directory");
  }
  SECTION("a state_dir that is a regular file") {
    const auto file = dir.write("plain", "x");
    CHECK_THAT(openError(file),
               Catch::Contains(file.string()) && Catch::Contains("not a directory"));
  }
  SECTION("a state_dir without write permission") {
    const auto state_dir = dir.path() / "ro";
    fs::create_directories(state_dir);
    REQUIRE(::chmod(state_dir.c_str(), 0500) == 0);
    if (::geteuid() == 0) {
      WARN("running as root: chmod 0500 does not stop writes, section skipped");
    } else {
      CHECK(openError(state_dir) ==
            "ledger: state_dir " + state_dir.string() + " is not writable: permission denied");
    }
    REQUIRE(::chmod(state_dir.c_str(), 0700) == 0);
  }
}

TEST_CASE("Ledger migrates older schemas in one transaction", "[pipeline]") {
  dropd::test::TempDir dir;
  const auto db_path = dir.path() / "ledger.db";

  const int latest = Ledger::schemaVersion();
  SECTION("v0, an empty file left by a dropd that crashed while creating it, becomes the latest") {
    dir.write("ledger.db", "");
    auto ledger = Ledger::open(dir.path());
    REQUIRE(ledger);
    CHECK(rawInt(db_path, "PRAGMA user_version") == latest);
    CHECK((*ledger)->loadAll()->empty());
  }

  // A future step, run against a file of today's schema with rows. Today's
  // steps are already applied to this file, so their text is never run.
  const auto row = makeRow("a.txt", 1, "aa");
  REQUIRE((*Ledger::open(dir.path()))->record({&row, 1}));
  std::vector<std::string_view> steps(static_cast<std::size_t>(latest), "SELECT 'applied'");
  SECTION("a new step applies and keeps the rows") {
    steps.push_back("ALTER TABLE jobs ADD COLUMN note TEXT");
    auto ledger = Ledger::openWithMigrationsForTest(dir.path(), steps);
    REQUIRE(ledger);
    CHECK(rawInt(db_path, "PRAGMA user_version") == latest + 1);
    CHECK(rawInt(db_path, "SELECT count(*) FROM pragma_table_info('jobs') WHERE name = 'note'") ==
          1);
    CHECK((*ledger)->loadAll() == std::vector<LedgerRow>{row});
  }
  SECTION("a failing step leaves the file as it was") {
    steps.push_back("CREATE TABLE added (x); ALTER TABLE jobs ADD COLUMN note TEXT");
    steps.push_back("CREATE TABLE jobs (x)");
    auto ledger = Ledger::openWithMigrationsForTest(dir.path(), steps);
    REQUIRE_FALSE(ledger);
    CHECK_THAT(ledger.error().message(),
               Catch::Contains(fmt::format("migration to schema {}", latest + 2)) &&
                   Catch::Contains(db_path.string()) &&
                   Catch::Contains("table jobs already exists"));
    CHECK(rawInt(db_path, "PRAGMA user_version") == latest);
    CHECK(rawInt(db_path, "SELECT count(*) FROM sqlite_schema WHERE name = 'added'") == 0);
    CHECK((*Ledger::open(dir.path()))->loadAll() == std::vector<LedgerRow>{row});
  }
}

TEST_CASE("Ledger opens a schema v1 file and drops its dedupe index", "[pipeline]") {
  dropd::test::TempDir dir;
  const auto db_path = dir.path() / "ledger.db";
  // A ledger as the first dropd wrote it (schema v1, with one row).
  rawSql(db_path, fmt::format(R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY,
  pipeline        TEXT    NOT NULL,
  rel             TEXT    NOT NULL,
  dev             INTEGER NOT NULL,
  ino             INTEGER NOT NULL,
  size            INTEGER NOT NULL,
  mtime_ns        INTEGER NOT NULL,
  sha256          TEXT    NOT NULL,
  state           INTEGER NOT NULL CHECK (state IN (1, 2)),
  attempts        INTEGER NOT NULL,
  last_error      TEXT    NOT NULL,
  result_path     TEXT    NOT NULL,
  source_moved_to TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (pipeline, rel, dev, ino, size, mtime_ns)
);
CREATE INDEX jobs_by_sha256 ON jobs (pipeline, substr(sha256, 1, 16));
INSERT INTO jobs VALUES (1, 'p', 'old.txt', 2049, 7, 107, 1700000000123456789, 'aa', 1, 1, '',
                         '/out/old.txt.json', '/done/old.txt', 1700000000, 1700000000);
PRAGMA application_id = {};
PRAGMA user_version = 1;
)sql",
                              Ledger::kApplicationId));
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger);
  CHECK(rawInt(db_path, "PRAGMA user_version") == 5);
  CHECK(rawInt(db_path, "SELECT count(*) FROM sqlite_schema WHERE name = 'jobs_by_sha256'") == 0);
  // v4: rows from before prompt versions have none (so dedupe skips them).
  CHECK(rawInt(db_path, "SELECT count(*) FROM jobs WHERE prompt_version = ''") == 1);
  // v3: the extraction tries (issue 14) joined, empty.
  CHECK(rawInt(db_path, "SELECT count(*) FROM extract_tries") == 0);
  // v5: the chunk answers (issue 15) joined, empty.
  CHECK(rawInt(db_path, "SELECT count(*) FROM chunk_answers") == 0);
  const auto old = makeRow("old.txt", 7, "aa");
  CHECK((*ledger)->loadAll() == std::vector<LedgerRow>{old});

  SECTION("its rows still match, update and dedupe as before") {
    auto updated = old;
    updated.attempts = 3;
    updated.updated_at = kT0 + 5s;
    const auto added = makeRow("new.txt", 8, "bb");
    REQUIRE((*ledger)->record(std::vector{updated, added}));
    CHECK((*ledger)->loadAll() == std::vector<LedgerRow>{updated, added});
    CHECK((*ledger)->findBySha("p", "aa")->value().rel == "old.txt");
  }
  SECTION("a second open finds nothing left to migrate") {
    ledger->reset();
    REQUIRE(Ledger::open(dir.path()));
    CHECK(rawInt(db_path, "PRAGMA user_version") == 5);
  }
}

TEST_CASE("fileSystemKind tells network and FUSE file systems from local ones", "[pipeline]") {
  CHECK(fileSystemKind(0x6969) == FileSystemKind::kNetwork);
  CHECK(fileSystemName(0x6969) == "nfs");
  CHECK(fileSystemKind(0x517B) == FileSystemKind::kNetwork);
  CHECK(fileSystemKind(0xFE534D42) == FileSystemKind::kNetwork);
  CHECK(fileSystemName(0xFE534D42) == "smb2");
  CHECK(fileSystemKind(0xFF534D42) == FileSystemKind::kNetwork);
  CHECK(fileSystemName(0xFF534D42) == "cifs");
  CHECK(fileSystemKind(0x01021997) == FileSystemKind::kNetwork);
  CHECK(fileSystemKind(0x00C36400) == FileSystemKind::kNetwork);
  CHECK(fileSystemKind(0x5346414F) == FileSystemKind::kNetwork);
  CHECK(fileSystemKind(0x6B414653) == FileSystemKind::kNetwork);
  CHECK(fileSystemKind(0x65735546) == FileSystemKind::kFuse);
  CHECK(fileSystemName(0x65735546) == "fuse");

  SECTION("a sign-extended 32-bit f_type still matches") {
    CHECK(fileSystemKind(static_cast<std::int32_t>(0xFF534D42)) == FileSystemKind::kNetwork);
    CHECK(fileSystemKind(static_cast<std::int32_t>(0xFE534D42)) == FileSystemKind::kNetwork);
  }
  SECTION("local ones, overlayfs included, and edge values") {
    CHECK(fileSystemKind(0xEF53) == FileSystemKind::kLocal);      // ext4
    CHECK(fileSystemKind(0x58465342) == FileSystemKind::kLocal);  // xfs
    CHECK(fileSystemKind(0x9123683E) == FileSystemKind::kLocal);  // btrfs
    CHECK(fileSystemKind(0x01021994) == FileSystemKind::kLocal);  // tmpfs
    CHECK(fileSystemKind(0x794C7630) == FileSystemKind::kLocal);  // overlayfs
    CHECK(fileSystemName(0x794C7630).empty());
    CHECK(fileSystemKind(0) == FileSystemKind::kLocal);
    CHECK(fileSystemKind(-1) == FileSystemKind::kLocal);
    CHECK(fileSystemKind(INT64_MIN) == FileSystemKind::kLocal);
  }
}

TEST_CASE("Ledger record and loadAll speed", "[.][bench]") {
  using Clock = std::chrono::steady_clock;
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger);
  constexpr std::size_t kBatch = 512;
  constexpr std::size_t kRows = 100'000;
  std::vector<double> batch_ms;
  for (std::size_t first = 0; first < kRows; first += kBatch) {
    std::vector<LedgerRow> batch;
    for (std::size_t i = first; i < std::min(first + kBatch, kRows); ++i) {
      batch.push_back(
          makeRow(fmt::format("inbox/sub{}/file-{:06}.txt", i % 50, i), i, fakeSha256(i)));
    }
    const auto start = Clock::now();
    REQUIRE((*ledger)->record(batch));
    batch_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(batch_ms.begin(), batch_ms.end());
  const auto start = Clock::now();
  const auto all = (*ledger)->loadAll();
  const auto load_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  REQUIRE(all->size() == kRows);
  WARN(
      fmt::format("record({} rows): median {:.2f} ms, p90 {:.2f} ms, max {:.2f} ms over {} batches",
                  kBatch, batch_ms[batch_ms.size() / 2], batch_ms[batch_ms.size() * 9 / 10],
                  batch_ms.back(), batch_ms.size()));
  WARN(fmt::format("loadAll({} rows): {:.1f} ms", kRows, load_ms));
  const auto find_start = Clock::now();
  const auto found = (*ledger)->findBySha("p", fakeSha256(777));
  WARN(fmt::format("findBySha: {:.3f} ms",
                   std::chrono::duration<double, std::milli>(Clock::now() - find_start).count()));
  REQUIRE(found);
  CHECK(found->value().identity.ino == 777);
}
