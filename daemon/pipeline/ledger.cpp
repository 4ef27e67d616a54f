// Ledger: opening state_dir/ledger.db, refusing what is not ours, and the
// schema with its migrations. The row operations are in ledger_rows.cpp.

#include "dropd/pipeline/ledger.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

namespace dropd::pipeline {
namespace {

namespace fs = std::filesystem;

// Schema v1 (v2 below drops its dedupe index). The UNIQUE key's index
// starts with (pipeline, rel), so it also serves lookups by path and
// forget() by prefix: a separate (pipeline, rel) index would only slow every
// insert. The dedupe index held the first 16 hex digits (64 bits) of sha256,
// not all 64, to keep it small. dev, ino and size are uint64 stored bit for
// bit in SQLite's int64. Times: mtime in ns, created/updated in unix
// seconds. state: 1 = done, 2 = failed (LedgerState).
constexpr std::string_view kSchemaV1 = R"sql(
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
)sql";

// Schema v2 drops the dedupe index. The daemon never used it: dedupe looks
// hashes up in memory (loaded by the start's stream of rows), so the index
// only cost every record(): its keys are random, so each row dirties its own
// page, and every commit writes those pages to the WAL. It was half of a
// record()'s time on a fresh ledger (10,000 rows in commits of 12, tmpfs: 54
// vs 29 ms), and more in a ledger with history (10,000 rows after 100,000,
// commits of 64: 7.5 vs 1.8 us a row). bench/pipeline measured the ledger at
// 11-15% of files/s with it.
constexpr std::string_view kSchemaV2 = R"sql(
DROP INDEX IF EXISTS jobs_by_sha256;
)sql";

// Schema v3 adds the extraction tries (issue 14, ledger_tries.cpp): a row
// per file version whose extraction started and has not ended, written and
// committed before the file goes to a dropd-extract helper, so a file that
// crashes the helper (or the daemon) is failed after max_tries, never
// looped across restarts. record() deletes the row when the file ends.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE extract_tries (
  pipeline   TEXT    NOT NULL,
  rel        TEXT    NOT NULL,
  dev        INTEGER NOT NULL,
  ino        INTEGER NOT NULL,
  size       INTEGER NOT NULL,
  mtime_ns   INTEGER NOT NULL,
  tries      INTEGER NOT NULL,
  last_error TEXT    NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (pipeline, rel, dev, ino, size, mtime_ns)
) WITHOUT ROWID;
)sql";

// Schema v4 adds the prompt version a done row's result was made under
// (docs/pipeline.md, "Prompt versions"): dedupe only points a file at an
// earlier result made under the version the config gives now. '' is a
// row from before v4, which matches no version.
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE jobs ADD COLUMN prompt_version TEXT NOT NULL DEFAULT '';
)sql";

// Schema v5 adds the answers of long documents' chunks (issue 15,
// ledger_chunks.cpp, docs/chunking.md): each map and reduce answer as it
// comes, keyed by the content and the prompt version, so a restart sends
// only the chunks without one. The Pipeline deletes them once the
// document's record is committed.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE chunk_answers (
  pipeline          TEXT    NOT NULL,
  sha256            TEXT    NOT NULL,
  prompt_version    TEXT    NOT NULL,
  level             INTEGER NOT NULL,
  idx               INTEGER NOT NULL,
  answer            TEXT    NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (pipeline, sha256, prompt_version, level, idx)
);
)sql";

// Step i takes the schema from version i to i + 1, all steps of one open in
// one transaction. Version 0 is a file with no tables and no application_id:
// a new file, or an empty one left by a dropd that crashed while creating it.
// Append new steps; never edit a released one.
constexpr std::array<std::string_view, 5> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,
                                                         kSchemaV5};

constexpr int kBusyTimeoutMs = 5000;

// What the header of an existing file says about it.
struct Header {
  std::int64_t application_id = 0;
  std::int64_t user_version = 0;
  std::int64_t schema_objects = 0;  // tables, indexes, views, triggers
};

tl::unexpected<Error> dbError(sqlite3* db, int rc, std::string_view what, const fs::path& path) {
  // Only I/O failures leave a meaningful errno behind (ENOSPC, EIO...).
  const int primary = rc & 0xff;
  const bool io = primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN;
  const int err = io && db != nullptr ? sqlite3_system_errno(db) : 0;
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return tl::unexpected<Error>(Error{ErrorCode::kSystem, -err,
                                     fmt::format("ledger: {} ({}): {}", what, path.string(), msg)});
}

tl::unexpected<Error> notOurs(const fs::path& path, std::string_view why) {
  return makeError(ErrorCode::kInvalid,
                   fmt::format("ledger: {} is not a dropd ledger ({}): move it away or set "
                               "state_dir to another folder",
                               path.string(), why));
}

Result<std::int64_t> queryInt(sqlite3* db, const char* sql, const fs::path& path) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt.get());
  }
  if (rc == SQLITE_NOTADB) {
    return notOurs(path, "file is not a database");
  }
  if (rc != SQLITE_ROW) {
    return dbError(db, rc, sql, path);
  }
  return sqlite3_column_int64(stmt.get(), 0);
}

// Runs `sql` (one or more statements); `what` names it in an error, or the
// SQL itself when empty.
Status exec(sqlite3* db, std::string_view sql, const fs::path& path, std::string_view what = {}) {
  const int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return dbError(db, rc, what.empty() ? sql : what, path);
  }
  return {};
}

tl::unexpected<Error> newerSchema(const fs::path& path, std::int64_t version, std::size_t latest) {
  return makeError(ErrorCode::kInvalid,
                   fmt::format("{} schema {} is newer than this dropd ({}): upgrade dropd or "
                               "move the file away",
                               path.string(), version, latest));
}

// The state_dir must exist, be a folder we can write, and be on a local file
// system: SQLite relies on POSIX byte-range locks and on a shared memory map
// of ledger.db-shm in WAL mode, which network and FUSE file systems do not
// provide reliably (https://www.sqlite.org/wal.html, "WAL does not work over
// a network filesystem"). Checked here so the error names the folder.
Status checkStateDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return sysError(ec.value(), fmt::format("ledger: cannot create state_dir {}", dir.string()));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return sysError(errno, fmt::format("ledger: stat(state_dir {})", dir.string()));
  }
  if (!S_ISDIR(st.st_mode)) {
    return sysError(ENOTDIR, fmt::format("ledger: state_dir {}", dir.string()));
  }
  struct statfs sfs {};
  if (::statfs(dir.c_str(), &sfs) != 0) {
    return sysError(errno, fmt::format("ledger: statfs(state_dir {})", dir.string()));
  }
  if (const auto kind = fileSystemKind(sfs.f_type); kind != FileSystemKind::kLocal) {
    return makeError(
        ErrorCode::kInvalid,
        fmt::format("ledger: state_dir {} is on {}, a {} file system: SQLite's locking and WAL "
                    "are unsafe there; put state_dir on a local disk",
                    dir.string(), fileSystemName(sfs.f_type),
                    kind == FileSystemKind::kFuse ? "FUSE" : "network"));
  }
  // W_OK for ledger.db itself, -wal and -shm; X_OK to reach them.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return sysError(errno, fmt::format("ledger: state_dir {} is not writable", dir.string()));
  }
  return {};
}

Result<Header> readHeader(sqlite3* db, const fs::path& path) {
  Header header;
  for (auto [field, sql] :
       {std::pair{&header.application_id, "PRAGMA application_id"},
        std::pair{&header.user_version, "PRAGMA user_version"},
        std::pair{&header.schema_objects, "SELECT count(*) FROM sqlite_schema"}}) {
    auto value = queryInt(db, sql, path);
    if (!value) {
      return tl::unexpected(std::move(value.error()));
    }
    *field = *value;
  }
  return header;
}

// Refuses a file some other program wrote, and one from a newer dropd,
// before anything (even the journal mode) is changed in it.
Status checkHeader(const Header& h, const fs::path& path, std::size_t latest) {
  const bool blank = h.application_id == 0 && h.user_version == 0 && h.schema_objects == 0;
  if (blank) {
    return {};  // new, or version 0: created below
  }
  if (h.application_id == 0) {
    return notOurs(path, "a SQLite database without dropd's application_id");
  }
  if (h.application_id != Ledger::kApplicationId) {
    return notOurs(path, fmt::format("a SQLite database with application_id {:#010x}, dropd's "
                                     "is {:#010x}",
                                     static_cast<std::uint32_t>(h.application_id),
                                     static_cast<std::uint32_t>(Ledger::kApplicationId)));
  }
  if (h.user_version < 0) {
    return notOurs(path, fmt::format("schema {} was never written by dropd", h.user_version));
  }
  if (static_cast<std::uint64_t>(h.user_version) > latest) {
    return newerSchema(path, h.user_version, latest);
  }
  return {};
}

// Journal and durability settings; see the comment in the function body.
Status configure(sqlite3* db, const fs::path& path) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt.get());
  }
  if (rc != SQLITE_ROW) {
    return dbError(db, rc, "PRAGMA journal_mode=WAL", path);
  }
  const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
  if (mode == nullptr || std::string_view(mode) != "wal") {
    return makeError(ErrorCode::kInvalid,
                     fmt::format("ledger: {} cannot use WAL mode (journal_mode is {})",
                                 path.string(), mode == nullptr ? "unknown" : mode));
  }
  // synchronous=FULL: in WAL mode every COMMIT fsyncs the WAL before it
  // returns. With NORMAL a commit is only durable at the next checkpoint, so
  // after a power loss the last batches can vanish while the source moves
  // that followed them survive; the ledger would then miss files that are
  // gone from the inbox (no redo possible, requeue and dedupe blind to them).
  // FULL keeps the order "ledger durable, then sources move" true on disk,
  // at one fdatasync of the WAL per batch of up to 512 rows (the [bench]
  // test: 6.7 ms median per 512 rows on ext4, next to the batch's own
  // syncfs). A commit that did not return is lost whole: the batch is redone.
  // foreign_keys: no foreign keys in v1; on so later steps can rely on them.
  // A small page cache: the ledger is written in batches and read whole at
  // start, so SQLite's 2 MiB default would only make the daemon's memory
  // grow with the ledger's size (bench/pipeline's flatness figure).
  return exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-256", path);
}

// Inside migrate()'s transaction: the missing steps, then the stamp.
Status applySteps(sqlite3* db, const fs::path& path, std::span<const std::string_view> steps) {
  // Read again under the write lock: a concurrent `dropd requeue` may have
  // migrated the file since open() looked.
  auto version = queryInt(db, "PRAGMA user_version", path);
  if (!version) {
    return tl::unexpected(std::move(version.error()));
  }
  if (*version < 0 || static_cast<std::uint64_t>(*version) > steps.size()) {
    return newerSchema(path, *version, steps.size());
  }
  for (auto v = static_cast<std::size_t>(*version); v < steps.size(); ++v) {
    if (auto st = exec(db, steps[v], path, fmt::format("migration to schema {}", v + 1)); !st) {
      return st;
    }
  }
  return exec(db,
              fmt::format("PRAGMA application_id={}; PRAGMA user_version={}",
                          Ledger::kApplicationId, steps.size()),
              path);
}

// Applies the missing steps, application_id and user_version in ONE
// transaction: a failed or interrupted migration leaves the file as it was.
Status migrate(sqlite3* db, const fs::path& path, std::span<const std::string_view> steps) {
  // IMMEDIATE takes the write lock at BEGIN, so busy_timeout applies there.
  if (auto st = exec(db, "BEGIN IMMEDIATE", path); !st) {
    return st;
  }
  Status st = applySteps(db, path, steps);
  if (st) {
    st = exec(db, "COMMIT", path);
  }
  if (!st && sqlite3_get_autocommit(db) == 0) {
    (void)exec(db, "ROLLBACK", path);
  }
  return st;
}

}  // namespace

void Ledger::DbCloser::operator()(sqlite3* db) const noexcept {
  // _v2: never fails for unfinalized statements; they are finalized first anyway.
  sqlite3_close_v2(db);
}

Ledger::Ledger(fs::path path, DbPtr db) : path_(std::move(path)), db_(std::move(db)) {}

Ledger::~Ledger() = default;

int Ledger::schemaVersion() { return static_cast<int>(kMigrations.size()); }

Result<std::unique_ptr<Ledger>> Ledger::open(const fs::path& state_dir) {
  return openWithMigrationsForTest(state_dir, kMigrations);
}

Result<std::unique_ptr<Ledger>> Ledger::openWithMigrationsForTest(
    const fs::path& state_dir, std::span<const std::string_view> migrations) {
  if (auto st = checkStateDir(state_dir); !st) {
    return tl::unexpected(std::move(st.error()));
  }
  const fs::path path = state_dir / kFileName;
  // NOMUTEX (SQLite's "multi-thread" mode): no mutex on the connection, and
  // the connection and its statements may be used from any thread as long as
  // no two threads use them at once. That is exactly how the threadpool
  // calls us (one call at a time, any pool thread; libuv's queue orders the
  // calls). FULLMUTEX would only add a lock nobody contends for. Requires a
  // SQLite built thread-safe (Debian's is), checked below.
  constexpr int kFlags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (sqlite3_threadsafe() == 0) {
    return makeError(ErrorCode::kInvalid, fmt::format("ledger: {}: this SQLite library is built "
                                                      "without threads (SQLITE_THREADSAFE=0)",
                                                      path.string()));
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, kFlags, nullptr);
  DbPtr db(raw);  // a handle may be returned even when the open fails
  if (rc != SQLITE_OK) {
    return dbError(db.get(), rc, "open", path);
  }
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return makeError(ErrorCode::kInvalid,
                     fmt::format("ledger: {} is not writable (opened read-only)", path.string()));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);  // a `dropd requeue` may hold the lock briefly
  auto header = readHeader(db.get(), path);
  if (!header) {
    return tl::unexpected(std::move(header.error()));
  }
  Status st = checkHeader(*header, path, migrations.size());
  if (st) {
    st = configure(db.get(), path);
  }
  if (st && static_cast<std::size_t>(header->user_version) < migrations.size()) {
    st = migrate(db.get(), path, migrations);
  }
  if (!st) {
    return tl::unexpected(std::move(st.error()));
  }
  std::unique_ptr<Ledger> ledger(new Ledger(path, std::move(db)));  // private constructor
  if (auto prepared = ledger->prepareAll(); !prepared) {
    return tl::unexpected(std::move(prepared.error()));
  }
  return ledger;
}

tl::unexpected<Error> Ledger::sqliteError(int rc, std::string_view what) const {
  return dbError(db_.get(), rc, what, path_);
}

}  // namespace dropd::pipeline
