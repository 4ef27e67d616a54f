// Ledger: the row operations, each one a cached prepared statement with its
// parameters bound by index. Opening and the schema are in ledger.cpp.

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

#include "dropd/pipeline/ledger.hpp"

#include "ledger_sql.hpp"

namespace dropd::pipeline {
namespace {

namespace fs = std::filesystem;
using sql::bindText;
using sql::columnText;

// The column order every SELECT returns and kUpsert binds (1-based there).
#define DROPD_LEDGER_COLUMNS                                                                    \
  "pipeline, rel, dev, ino, size, mtime_ns, sha256, state, attempts, last_error, result_path, " \
  "source_moved_to, created_at, updated_at, prompt_version"

enum Column : int {
  kPipeline,
  kRel,
  kDev,
  kIno,
  kSize,
  kMtimeNs,
  kSha256,
  kState,
  kAttempts,
  kLastError,
  kResultPath,
  kSourceMovedTo,
  kCreatedAt,
  kUpdatedAt,
  kPromptVersion,
  kColumnCount,
};

// Indexed by Ledger::Stmt.
constexpr std::array<const char*, 11> kSql = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO jobs (" DROPD_LEDGER_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    " ON CONFLICT (pipeline, rel, dev, ino, size, mtime_ns) DO UPDATE SET"
    " sha256 = excluded.sha256, state = excluded.state, attempts = excluded.attempts,"
    " last_error = excluded.last_error, result_path = excluded.result_path,"
    " source_moved_to = excluded.source_moved_to, updated_at = excluded.updated_at,"
    " prompt_version = excluded.prompt_version",
    "SELECT " DROPD_LEDGER_COLUMNS " FROM jobs ORDER BY id",
    "SELECT " DROPD_LEDGER_COLUMNS " FROM jobs WHERE pipeline = ?1 ORDER BY id",
    // No index since schema v2 (ledger.cpp): a scan of the pipeline's rows.
    "SELECT " DROPD_LEDGER_COLUMNS
    " FROM jobs WHERE pipeline = ?1 AND sha256 = ?2 AND state = 1 ORDER BY created_at, id LIMIT 1",
    // ?2 = '' is the whole pipeline; else rel itself or anything under rel/
    // ('0' is the byte after '/', so the range is exactly the "rel/" prefix
    // and needs no LIKE escaping).
    "DELETE FROM jobs WHERE pipeline = ?1"
    " AND (?2 = '' OR rel = ?2 OR (rel >= ?2 || '/' AND rel < ?2 || '0'))"
    " AND (?3 = 0 OR state = 2)",
    "SELECT state, count(*) FROM jobs GROUP BY state",
    // A file that ends after extraction: its tries are over (ledger_tries.cpp).
    "DELETE FROM extract_tries WHERE pipeline = ?1 AND rel = ?2"
    " AND dev = ?3 AND ino = ?4 AND size = ?5 AND mtime_ns = ?6",
    // A page of a pipeline's rows, by position (the rowid's order is insertion's).
    "SELECT " DROPD_LEDGER_COLUMNS
    ", id FROM jobs WHERE pipeline = ?1 AND id > ?2 ORDER BY id"
    " LIMIT ?3",
};

#undef DROPD_LEDGER_COLUMNS

// Resets a statement and drops its bindings (which point into the caller's
// strings) on scope exit, so no statement stays active between calls.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* const stmt_;
};

int bindRow(sqlite3_stmt* stmt, const LedgerRow& row) {
  static_assert(kIno == kDev + 1 && kSize == kDev + 2 && kMtimeNs == kDev + 3);
  const std::array<int, kColumnCount - 3> rcs = {
      bindText(stmt, kPipeline + 1, row.pipeline),
      bindText(stmt, kRel + 1, row.rel),
      sql::bindIdentity(stmt, kDev + 1, row.identity),
      bindText(stmt, kSha256 + 1, row.sha256),
      sqlite3_bind_int(stmt, kState + 1, static_cast<int>(row.state)),
      sqlite3_bind_int64(stmt, kAttempts + 1, row.attempts),
      bindText(stmt, kLastError + 1, row.last_error),
      bindText(stmt, kResultPath + 1, row.result_path.native()),
      bindText(stmt, kSourceMovedTo + 1, row.source_moved_to.native()),
      sqlite3_bind_int64(stmt, kCreatedAt + 1, row.created_at.time_since_epoch().count()),
      sqlite3_bind_int64(stmt, kUpdatedAt + 1, row.updated_at.time_since_epoch().count()),
      bindText(stmt, kPromptVersion + 1, row.prompt_version),
  };
  for (const int rc : rcs) {
    if (rc != SQLITE_OK) {
      return rc;  // SQLITE_TOOBIG: a string over SQLite's length limit
    }
  }
  return SQLITE_OK;
}

// The row under the cursor, or nullopt if its state is not one we write (a
// file edited by hand: the CHECK constraint keeps dropd itself from it).
std::optional<LedgerRow> readRow(sqlite3_stmt* stmt) {
  const auto state = sqlite3_column_int64(stmt, kState);
  if (state != static_cast<int>(LedgerState::kDone) &&
      state != static_cast<int>(LedgerState::kFailed)) {
    return std::nullopt;
  }
  const auto attempts = sqlite3_column_int64(stmt, kAttempts);
  LedgerRow row;
  row.pipeline = columnText(stmt, kPipeline);
  row.rel = columnText(stmt, kRel);
  row.identity.dev = std::bit_cast<std::uint64_t>(sqlite3_column_int64(stmt, kDev));
  row.identity.ino = std::bit_cast<std::uint64_t>(sqlite3_column_int64(stmt, kIno));
  row.identity.size = std::bit_cast<std::uint64_t>(sqlite3_column_int64(stmt, kSize));
  row.identity.mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(sqlite3_column_int64(stmt, kMtimeNs))));
  row.sha256 = columnText(stmt, kSha256);
  row.state = static_cast<LedgerState>(state);
  row.attempts = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(attempts, 0, std::numeric_limits<std::uint32_t>::max()));
  row.last_error = columnText(stmt, kLastError);
  row.result_path = columnText(stmt, kResultPath);
  row.source_moved_to = columnText(stmt, kSourceMovedTo);
  row.created_at =
      std::chrono::sys_seconds(std::chrono::seconds(sqlite3_column_int64(stmt, kCreatedAt)));
  row.updated_at =
      std::chrono::sys_seconds(std::chrono::seconds(sqlite3_column_int64(stmt, kUpdatedAt)));
  row.prompt_version = columnText(stmt, kPromptVersion);
  return row;
}

}  // namespace

std::string_view toString(LedgerState state) {
  switch (state) {
    case LedgerState::kDone:
      return "done";
    case LedgerState::kFailed:
      return "failed";
  }
  return "unknown";
}

void Ledger::StmtFinalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

// Every statement is prepared once, at open: a file whose tables or columns
// are not ours fails here, before any call.
Status Ledger::prepareAll() {
  static_assert(kSql.size() == kStmtCount);
  for (std::size_t i = 0; i < kStmtCount; ++i) {
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_.get(), kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    stmts_[i].reset(raw);
    if (rc != SQLITE_OK) {
      return makeError(ErrorCode::kInvalid,
                       fmt::format("ledger: {} is not a dropd ledger ({}): move it away or set "
                                   "state_dir to another folder",
                                   path_.string(), sqlite3_errmsg(db_.get())));
    }
  }
  return {};
}

Status Ledger::step(sqlite3_stmt* stmt, const char* what) {
  const StmtUse use(stmt);
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    return sqliteError(rc, what);  // before StmtUse's reset, which keeps the message anyway
  }
  return {};
}

Status Ledger::inTransaction(const char* what, const std::function<Status()>& body) {
  if (auto st = step(stmts_[kBegin].get(), what); !st) {
    return st;
  }
  Status st = body();
  if (st) {
    st = step(stmts_[kCommit].get(), what);
  }
  // A failed COMMIT may leave the transaction open (SQLITE_BUSY): never keep
  // a write lock, or a half batch, past this call.
  if (!st && sqlite3_get_autocommit(db_.get()) == 0) {
    (void)step(stmts_[kRollback].get(), what);
  }
  return st;
}

// Inside record()'s transaction, so a file's end and the end of its
// extraction tries are one commit. Text files never had a try: no cost.
Status Ledger::clearTries(const LedgerRow& row) {
  if (!row.extracted) {
    return {};
  }
  sqlite3_stmt* const clear = stmts_[kClearTries].get();
  int rc = sql::bindText(clear, 1, row.pipeline);
  if (rc == SQLITE_OK) {
    rc = sql::bindText(clear, 2, row.rel);
  }
  if (rc == SQLITE_OK) {
    rc = sql::bindIdentity(clear, 3, row.identity);
  }
  if (rc != SQLITE_OK) {
    sqlite3_clear_bindings(clear);
    return sqliteError(rc, "record: bind extract_tries");
  }
  return step(clear, "record: clear extract_tries");
}

Status Ledger::record(std::span<const LedgerRow> rows) {
  if (rows.empty()) {
    return {};
  }
  return inTransaction("record", [&]() -> Status {
    sqlite3_stmt* const upsert = stmts_[kUpsert].get();
    for (const LedgerRow& row : rows) {
      if (const int rc = bindRow(upsert, row); rc != SQLITE_OK) {
        sqlite3_clear_bindings(upsert);
        return sqliteError(rc, "record: bind");
      }
      if (auto st = step(upsert, "record"); !st) {
        return st;
      }
      if (auto st = clearTries(row); !st) {
        return st;
      }
    }
    return {};
  });
}

Status Ledger::visitWith(sqlite3_stmt* stmt, const RowVisitor& visit) {
  const StmtUse use(stmt);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto row = readRow(stmt);
    if (!row) {
      return makeError(ErrorCode::kInvalid,
                       fmt::format("ledger: {} holds a row with unknown state {}: edited by hand?",
                                   path_.string(), sqlite3_column_int64(stmt, kState)));
    }
    visit(std::move(*row));
  }
  if (rc != SQLITE_DONE) {
    return sqliteError(rc, "load");
  }
  return {};
}

Result<std::vector<LedgerRow>> Ledger::loadWith(sqlite3_stmt* stmt) {
  std::vector<LedgerRow> rows;
  if (Status s = visitWith(stmt, [&rows](LedgerRow&& row) { rows.push_back(std::move(row)); });
      !s) {
    return tl::unexpected(std::move(s.error()));
  }
  return rows;
}

Status Ledger::forEachRow(std::string_view pipeline, const RowVisitor& visit) {
  sqlite3_stmt* const stmt = stmts_[kLoadPipeline].get();
  if (const int rc = bindText(stmt, 1, pipeline); rc != SQLITE_OK) {
    return sqliteError(rc, "forEachRow: bind");
  }
  return visitWith(stmt, visit);
}

Result<std::vector<LedgerRow>> Ledger::loadPage(std::string_view pipeline, std::int64_t& after,
                                                std::size_t limit) {
  sqlite3_stmt* const stmt = stmts_[kLoadPage].get();
  if (bindText(stmt, 1, pipeline) != SQLITE_OK || sqlite3_bind_int64(stmt, 2, after) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 3, static_cast<std::int64_t>(limit)) != SQLITE_OK) {
    sqlite3_clear_bindings(stmt);
    return sqliteError(SQLITE_TOOBIG, "loadPage: bind");
  }
  std::vector<LedgerRow> rows;
  std::int64_t last = after;
  const StmtUse use(stmt);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto row = readRow(stmt);
    if (!row) {
      return makeError(ErrorCode::kInvalid,
                       fmt::format("ledger: {} holds a row with unknown state {}: edited by hand?",
                                   path_.string(), sqlite3_column_int64(stmt, kState)));
    }
    last = sqlite3_column_int64(stmt, kColumnCount);
    rows.push_back(std::move(*row));
  }
  if (rc != SQLITE_DONE) {
    return sqliteError(rc, "loadPage");
  }
  after = last;
  return rows;
}

Result<std::vector<LedgerRow>> Ledger::loadAll() { return loadWith(stmts_[kLoadAll].get()); }

Result<std::vector<LedgerRow>> Ledger::loadPipeline(std::string_view pipeline) {
  sqlite3_stmt* const stmt = stmts_[kLoadPipeline].get();
  if (const int rc = bindText(stmt, 1, pipeline); rc != SQLITE_OK) {
    return sqliteError(rc, "loadPipeline: bind");
  }
  return loadWith(stmt);
}

Result<std::optional<LedgerRow>> Ledger::findBySha(std::string_view pipeline,
                                                   std::string_view sha256) {
  sqlite3_stmt* const stmt = stmts_[kFindBySha].get();
  if (bindText(stmt, 1, pipeline) != SQLITE_OK || bindText(stmt, 2, sha256) != SQLITE_OK) {
    sqlite3_clear_bindings(stmt);
    return sqliteError(SQLITE_TOOBIG, "findBySha: bind");
  }
  auto rows = loadWith(stmt);
  if (!rows) {
    return tl::unexpected(std::move(rows.error()));
  }
  if (rows->empty()) {
    return std::optional<LedgerRow>{};
  }
  return std::optional<LedgerRow>{std::move(rows->front())};
}

Result<std::size_t> Ledger::forget(const ForgetFilter& filter) {
  std::string_view prefix = filter.rel_prefix;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.remove_suffix(1);
  }
  sqlite3_stmt* const stmt = stmts_[kForget].get();
  if (bindText(stmt, 1, filter.pipeline) != SQLITE_OK || bindText(stmt, 2, prefix) != SQLITE_OK ||
      sqlite3_bind_int(stmt, 3, filter.only_failed ? 1 : 0) != SQLITE_OK) {
    sqlite3_clear_bindings(stmt);
    return sqliteError(SQLITE_TOOBIG, "forget: bind");
  }
  // One DELETE statement is one transaction of its own.
  if (auto st = step(stmt, "forget"); !st) {
    return tl::unexpected(std::move(st.error()));
  }
  return static_cast<std::size_t>(sqlite3_changes64(db_.get()));
}

Result<LedgerStats> Ledger::stats() {
  sqlite3_stmt* const stmt = stmts_[kStats].get();
  const StmtUse use(stmt);
  LedgerStats stats;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto count = static_cast<std::size_t>(sqlite3_column_int64(stmt, 1));
    switch (sqlite3_column_int64(stmt, 0)) {
      case static_cast<int>(LedgerState::kDone):
        stats.done = count;
        break;
      case static_cast<int>(LedgerState::kFailed):
        stats.failed = count;
        break;
      default:
        break;  // not ours (see readRow); loadAll() reports it
    }
  }
  if (rc != SQLITE_DONE) {
    return sqliteError(rc, "stats");
  }
  return stats;
}

}  // namespace dropd::pipeline
