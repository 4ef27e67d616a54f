#include "dropd/pipeline/ledger_lookup.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "ledger_sql.hpp"

namespace dropd::pipeline {
namespace {

// The unique key's columns, in the index's order, so SQLite seeks it.
constexpr const char* kFindSql =
    "SELECT state, result_path FROM jobs WHERE pipeline = ?1 AND rel = ?2"
    " AND dev = ?3 AND ino = ?4 AND size = ?5 AND mtime_ns = ?6";

// Seeks the unique index by its (pipeline, rel) prefix: a path has one row
// per version of the file, rarely more than a few.
constexpr const char* kLatestSql =
    "SELECT state, result_path, source_moved_to, attempts, last_error, updated_at FROM jobs"
    " WHERE pipeline = ?1 AND rel = ?2 ORDER BY updated_at DESC, id DESC LIMIT 1";

constexpr int kBusyTimeoutMs = 5000;

tl::unexpected<Error> lookupError(sqlite3* db, int rc, std::string_view what,
                                  const std::filesystem::path& path) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return makeError(ErrorCode::kSystem,
                   fmt::format("ledger: {} ({}): {}", what, path.string(), msg));
}

}  // namespace

Result<std::unique_ptr<LedgerLookup>> LedgerLookup::open(const std::filesystem::path& ledger_path) {
  sqlite3* db = nullptr;
  // NOMUTEX: one thread at a time uses it (its owner lends it out).
  int rc = sqlite3_open_v2(ledger_path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    rc = sqlite3_prepare_v3(db, kFindSql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  }
  if (rc != SQLITE_OK) {
    auto error = lookupError(db, rc, "open for look-ups", ledger_path);
    sqlite3_close(db);
    return error;
  }
  return std::unique_ptr<LedgerLookup>(new LedgerLookup(ledger_path, db, stmt));
}

LedgerLookup::LedgerLookup(std::filesystem::path path, sqlite3* db, sqlite3_stmt* stmt)
    : path_(std::move(path)), db_(db), stmt_(stmt) {}

LedgerLookup::~LedgerLookup() {
  sqlite3_finalize(latest_stmt_);
  sqlite3_finalize(stmt_);
  sqlite3_close(db_);
}

Result<std::vector<std::optional<LedgerLookup::Finished>>> LedgerLookup::findAll(
    std::string_view pipeline, std::span<const Key> keys) {
  // One snapshot for the whole chunk; a failed BEGIN only costs the speed.
  const bool in_transaction = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  Result<std::vector<std::optional<Finished>>> out = std::vector<std::optional<Finished>>{};
  out->reserve(keys.size());
  for (const Key& key : keys) {
    auto one = find(pipeline, key.rel, key.identity);
    if (!one) {
      out = tl::unexpected(std::move(one.error()));
      break;
    }
    out->push_back(std::move(*one));
  }
  if (in_transaction) {
    (void)sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);  // a read: nothing to lose
  }
  return out;
}

Result<std::optional<LedgerLookup::Finished>> LedgerLookup::find(
    std::string_view pipeline, std::string_view rel, const file::FileIdentity& identity) {
  // Bound exactly as Ledger::record() binds the key (ledger_sql.hpp).
  int rc = sql::bindText(stmt_, 1, pipeline);
  if (rc == SQLITE_OK) {
    rc = sql::bindText(stmt_, 2, rel);
  }
  if (rc == SQLITE_OK) {
    rc = sql::bindIdentity(stmt_, 3, identity);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt_);
  }
  Result<std::optional<Finished>> out = std::nullopt;
  if (rc == SQLITE_ROW) {
    out = Finished{sqlite3_column_int(stmt_, 0) == 1, sql::columnText(stmt_, 1)};
  } else if (rc != SQLITE_DONE) {
    out = lookupError(db_, rc, "look-up", path_);
  }
  // No statement stays active: the next look-up starts a new read, which
  // sees every commit made meanwhile.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return out;
}

Result<std::optional<LedgerLookup::History>> LedgerLookup::latest(std::string_view pipeline,
                                                                  std::string_view rel) {
  int rc = SQLITE_OK;
  if (latest_stmt_ == nullptr) {
    rc = sqlite3_prepare_v3(db_, kLatestSql, -1, SQLITE_PREPARE_PERSISTENT, &latest_stmt_, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sql::bindText(latest_stmt_, 1, pipeline);
  }
  if (rc == SQLITE_OK) {
    rc = sql::bindText(latest_stmt_, 2, rel);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(latest_stmt_);
  }
  Result<std::optional<History>> out = std::nullopt;
  if (rc == SQLITE_ROW) {
    out = History{sqlite3_column_int(latest_stmt_, 0) == 1,
                  sql::columnText(latest_stmt_, 1),
                  sql::columnText(latest_stmt_, 2),
                  static_cast<std::uint32_t>(sqlite3_column_int64(latest_stmt_, 3)),
                  sql::columnText(latest_stmt_, 4),
                  sqlite3_column_int64(latest_stmt_, 5)};
  } else if (rc != SQLITE_DONE) {
    out = lookupError(db_, rc, "look-up by path", path_);
  }
  if (latest_stmt_ != nullptr) {
    sqlite3_reset(latest_stmt_);
    sqlite3_clear_bindings(latest_stmt_);
  }
  return out;
}

}  // namespace dropd::pipeline
