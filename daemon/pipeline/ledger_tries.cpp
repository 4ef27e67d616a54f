// ExtractTries: the extract_tries rows (ledger.cpp's schema v3).
#include <chrono>

#include <fmt/format.h>
#include <sqlite3.h>

#include "dropd/pipeline/extract_tries.hpp"

#include "ledger_sql.hpp"

namespace dropd::pipeline {
namespace {

constexpr const char* kKey =
    " WHERE pipeline = ?1 AND rel = ?2 AND dev = ?3 AND ino = ?4 AND size = ?5 AND mtime_ns = ?6";

// A prepared statement finalized at scope end.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  // Binds the key into ?1..?6.
  [[nodiscard]] int bindKey(const ExtractTries::Key& key) {
    if (rc_ == SQLITE_OK) {
      rc_ = sql::bindText(stmt_, 1, key.pipeline);
    }
    if (rc_ == SQLITE_OK) {
      rc_ = sql::bindText(stmt_, 2, key.rel);
    }
    if (rc_ == SQLITE_OK) {
      rc_ = sql::bindIdentity(stmt_, 3, key.identity);
    }
    return rc_;
  }
  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

Result<std::unique_ptr<ExtractTries>> ExtractTries::open(const std::filesystem::path& ledger_path) {
  // FULL: a try must survive a power cut, or a file that crashes the whole
  // machine could loop (WAL's NORMAL may lose the last commits).
  auto db = sql::openSide(ledger_path, "extraction tries", "FULL");
  if (!db) {
    return tl::unexpected(std::move(db.error()));
  }
  return std::unique_ptr<ExtractTries>(new ExtractTries(ledger_path, *db));
}

ExtractTries::ExtractTries(std::filesystem::path path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

ExtractTries::~ExtractTries() { sqlite3_close(db_); }

Status ExtractTries::exec(const char* sql, const char* what) {
  if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return makeError(ErrorCode::kSystem, fmt::format("ledger: extraction tries: {} ({}): {}", what,
                                                     path_.string(), sqlite3_errmsg(db_)));
  }
  return {};
}

Result<ExtractTries::Try> ExtractTries::begin(const Key& key, std::uint32_t max_tries,
                                              std::string_view last_error) {
  const std::lock_guard lock(mutex_);
  if (auto st = exec("BEGIN IMMEDIATE", "begin"); !st) {
    return tl::unexpected(std::move(st.error()));
  }
  Try out;
  Stmt select(db_, fmt::format("SELECT tries, last_error FROM extract_tries{}", kKey));
  int rc = select.bindKey(key);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(select.get());
    if (rc == SQLITE_ROW) {
      out.tries = static_cast<std::uint32_t>(sqlite3_column_int64(select.get(), 0));
      out.last_error = sql::columnText(select.get(), 1);
      rc = SQLITE_DONE;
    }
  }
  if (!last_error.empty()) {
    out.last_error = last_error;
  } else if (out.tries > 0) {
    out.last_error = "dropd stopped while the file was extracted";
  }
  out.allowed = out.tries < max_tries;
  if (rc == SQLITE_DONE && out.allowed) {
    Stmt upsert(db_,
                fmt::format("INSERT INTO extract_tries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                            " ON CONFLICT DO UPDATE SET tries = excluded.tries,"
                            " last_error = excluded.last_error, updated_at = excluded.updated_at"));
    rc = upsert.bindKey(key);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(upsert.get(), 7, out.tries + 1);
      sql::bindText(upsert.get(), 8, out.last_error);
      sqlite3_bind_int64(upsert.get(), 9, sql::unixNow());
      rc = sqlite3_step(upsert.get());
    }
  }
  if (rc != SQLITE_DONE) {
    auto error = makeError(ErrorCode::kSystem, fmt::format("ledger: extraction tries ({}): {}",
                                                           path_.string(), sqlite3_errmsg(db_)));
    (void)exec("ROLLBACK", "rollback");
    return error;
  }
  if (auto st = exec("COMMIT", "commit"); !st) {
    (void)exec("ROLLBACK", "rollback");
    return tl::unexpected(std::move(st.error()));
  }
  return out;
}

Status ExtractTries::undo(const Key& key) {
  const std::lock_guard lock(mutex_);
  Stmt update(db_, fmt::format("UPDATE extract_tries SET tries = tries - 1{} AND tries > 0", kKey));
  int rc = update.bindKey(key);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(update.get());
  }
  if (rc != SQLITE_DONE) {
    return makeError(ErrorCode::kSystem, fmt::format("ledger: extraction tries: undo ({}): {}",
                                                     path_.string(), sqlite3_errmsg(db_)));
  }
  return {};
}

Result<std::uint32_t> ExtractTries::count(const Key& key) {
  const std::lock_guard lock(mutex_);
  Stmt select(db_, fmt::format("SELECT tries FROM extract_tries{}", kKey));
  int rc = select.bindKey(key);
  std::uint32_t tries = 0;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(select.get());
    if (rc == SQLITE_ROW) {
      tries = static_cast<std::uint32_t>(sqlite3_column_int64(select.get(), 0));
      rc = SQLITE_DONE;
    }
  }
  if (rc != SQLITE_DONE) {
    return makeError(ErrorCode::kSystem, fmt::format("ledger: extraction tries: count ({}): {}",
                                                     path_.string(), sqlite3_errmsg(db_)));
  }
  return tries;
}

}  // namespace dropd::pipeline
