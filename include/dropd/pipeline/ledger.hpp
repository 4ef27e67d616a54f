#pragma once

// The durable memory of finished jobs: one SQLite file, state_dir/ledger.db,
// with one row per finished job (issue #5). At start the pipeline loads it so
// rescans do not send a file twice, and dedupe gets the hashes of earlier
// content; the Sink records each batch right after its results are on disk
// and right before the sources move; `dropd requeue` forgets rows.
//
// Only finished outcomes (kDone, kFailed) are stored. A job in flight is not:
// after a crash its source is still in the inbox, so the next start simply
// redoes it, and there is nothing to reconcile.
//
// Threads: every call blocks (SQLite I/O, fsync) and belongs on the libuv
// threadpool. The class is NOT thread-safe: one call at a time, which the
// owner guarantees by queueing ledger work one item after the other. Calls
// may come from different pool threads; see ledger.cpp for the open flags
// that allow that. No call leaves a statement or transaction open between
// calls, so nothing ties the connection to one thread.
//
// Errors: no exceptions. Every Error's context names ledger.db or the
// state_dir; SQLite failures carry SQLite's message, and I/O failures the
// errno in `sys`.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/error.hpp"
#include "dropd/file/reader.hpp"
#include "dropd/watch/file_system.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace dropd::pipeline {

// A finished job's outcome. The values are stored in the file: never renumber.
enum class LedgerState : int {
  kDone = 1,
  kFailed = 2,
};

[[nodiscard]] std::string_view toString(LedgerState state);

// One finished job. The key is (pipeline, rel, identity): a file re-written
// under the same name has a new identity (mtime, size or inode) and is a new
// job with its own row.
struct LedgerRow {
  std::string pipeline;         // the pipeline's name in the config (not its index)
  std::string rel;              // relative to the watched root, '/'-separated
  file::FileIdentity identity;  // dev, ino, size, mtime (stored in ns)
  std::string sha256;           // lowercase hex of the content; empty if never read
  LedgerState state = LedgerState::kDone;
  std::uint32_t attempts = 0;             // requests sent
  std::string last_error;                 // kFailed: why; never a secret (no keys, no headers)
  std::filesystem::path result_path;      // the result or error record written
  std::filesystem::path source_moved_to;  // empty when the source was kept or deleted
  // Set by the caller from its clock. An upsert keeps the first created_at.
  std::chrono::sys_seconds created_at{};
  std::chrono::sys_seconds updated_at{};
  // The prompt version (prompt_version.hpp) its result was made under;
  // dedupe's key with sha256. Empty for failed rows and rows before it.
  std::string prompt_version;
  // Not stored: the file went through extraction, so record() also ends its
  // extraction tries (ExtractTries) in the same transaction.
  bool extracted = false;

  bool operator==(const LedgerRow&) const = default;
};

struct LedgerStats {
  std::size_t done = 0;
  std::size_t failed = 0;
  bool operator==(const LedgerStats&) const = default;
};

// Which rows forget() removes.
struct ForgetFilter {
  std::string pipeline;
  // "" means the whole pipeline; "a/b" means a/b itself and everything under
  // a/b/ (not a/bc). A trailing '/' is ignored.
  std::string rel_prefix{};
  bool only_failed = false;
};

// The ledger refuses a state_dir on a network or FUSE file system; the
// classification lives in the watch module, which polls such folders.
using watch::FileSystemKind;
using watch::fileSystemKind;
using watch::fileSystemName;

class Ledger {
 public:
  // What PRAGMA application_id holds in every dropd ledger ("drpd").
  static constexpr std::int32_t kApplicationId = 0x64727064;
  static constexpr const char* kFileName = "ledger.db";

  // Creates state_dir if missing and opens (or creates) state_dir/ledger.db,
  // bringing its schema up to date. Refuses, with an Error naming the path:
  // a state_dir that cannot be created or is not writable, one on a network
  // or FUSE file system, a file that is not SQLite, a SQLite file that is not
  // a dropd ledger, and a ledger from a newer dropd.
  [[nodiscard]] static Result<std::unique_ptr<Ledger>> open(const std::filesystem::path& state_dir);
  // open() with another list of migration steps (step i takes schema version
  // i to i + 1), so tests can exercise upgrades and failed upgrades.
  [[nodiscard]] static Result<std::unique_ptr<Ledger>> openWithMigrationsForTest(
      const std::filesystem::path& state_dir, std::span<const std::string_view> migrations);

  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // The schema version this dropd writes.
  [[nodiscard]] static int schemaVersion();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  // Every row, or one pipeline's rows, in insertion order.
  [[nodiscard]] Result<std::vector<LedgerRow>> loadAll();
  [[nodiscard]] Result<std::vector<LedgerRow>> loadPipeline(std::string_view pipeline);
  // One pipeline's rows, oldest first, handed over one at a time, so a large
  // ledger is never held whole in memory.
  using RowVisitor = std::function<void(LedgerRow&&)>;
  [[nodiscard]] Status forEachRow(std::string_view pipeline, const RowVisitor& visit);
  // At most `limit` rows of `pipeline` inserted after the row `after` (0:
  // from the first), oldest first; `after` becomes the last one's position,
  // to pass to the next call. A page at a time: LedgerStore::forEachRow.
  [[nodiscard]] Result<std::vector<LedgerRow>> loadPage(std::string_view pipeline,
                                                        std::int64_t& after, std::size_t limit);
  // Inserts or updates (on the key) every row in ONE transaction: either all
  // are durable when this returns, or none is written.
  [[nodiscard]] Status record(std::span<const LedgerRow> rows);
  // The earliest kDone row of `pipeline` with this content, if any. Reads
  // every row of the pipeline (there is no index on sha256 since schema v2):
  // for tools and tests; the daemon's dedupe keeps the hashes in memory.
  [[nodiscard]] Result<std::optional<LedgerRow>> findBySha(std::string_view pipeline,
                                                           std::string_view sha256);
  // Removes the matching rows in one transaction; returns how many.
  [[nodiscard]] Result<std::size_t> forget(const ForgetFilter& filter);
  [[nodiscard]] Result<LedgerStats> stats();

 private:
  // One cached prepared statement per operation (see ledger_rows.cpp).
  enum Stmt : std::size_t {
    kBegin,
    kCommit,
    kRollback,
    kUpsert,
    kLoadAll,
    kLoadPipeline,
    kFindBySha,
    kForget,
    kStats,
    kClearTries,
    kLoadPage,
    kStmtCount,
  };
  struct DbCloser {
    void operator()(sqlite3* db) const noexcept;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
  using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  Ledger(std::filesystem::path path, DbPtr db);
  [[nodiscard]] Status prepareAll();
  [[nodiscard]] Result<std::vector<LedgerRow>> loadWith(sqlite3_stmt* stmt);
  [[nodiscard]] Status visitWith(sqlite3_stmt* stmt, const RowVisitor& visit);
  [[nodiscard]] Status inTransaction(const char* what, const std::function<Status()>& body);
  [[nodiscard]] Status step(sqlite3_stmt* stmt, const char* what);
  [[nodiscard]] Status clearTries(const LedgerRow& row);
  [[nodiscard]] tl::unexpected<Error> sqliteError(int rc, std::string_view what) const;

  const std::filesystem::path path_;  // state_dir/ledger.db
  DbPtr db_;                          // declared before stmts_: they finalize first
  std::array<StmtPtr, kStmtCount> stmts_;
};

}  // namespace dropd::pipeline
