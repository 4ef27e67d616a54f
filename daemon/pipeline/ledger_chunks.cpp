// ChunkAnswers: the chunk_answers rows (ledger.cpp's schema v5).
#include <chrono>

#include <fmt/format.h>
#include <sqlite3.h>

#include "dropd/pipeline/chunk_answers.hpp"

#include "ledger_sql.hpp"

namespace dropd::pipeline {
namespace {

constexpr const char* kKey = " WHERE pipeline = ?1 AND sha256 = ?2 AND prompt_version = ?3";

// A prepared statement finalized at scope end, with the key bound.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const ChunkKey& key) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr);
    for (const auto& [i, text] : {std::pair{1, &key.pipeline}, std::pair{2, &key.sha256},
                                  std::pair{3, &key.prompt_version}}) {
      if (rc_ == SQLITE_OK) {
        rc_ = sql::bindText(stmt_, i, *text);
      }
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  [[nodiscard]] int rc() const { return rc_; }
  [[nodiscard]] sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

Result<std::unique_ptr<ChunkAnswers>> ChunkAnswers::open(const std::filesystem::path& ledger_path) {
  // NORMAL: an answer lost to a power cut is only asked for again.
  auto db = sql::openSide(ledger_path, "chunk answers", "NORMAL");
  if (!db) {
    return tl::unexpected(std::move(db.error()));
  }
  return std::unique_ptr<ChunkAnswers>(new ChunkAnswers(ledger_path, *db));
}

ChunkAnswers::ChunkAnswers(std::filesystem::path path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

ChunkAnswers::~ChunkAnswers() { sqlite3_close(db_); }

tl::unexpected<Error> ChunkAnswers::failed(const char* what) const {
  return makeError(ErrorCode::kSystem, fmt::format("ledger: chunk answers: {} ({}): {}", what,
                                                   path_.string(), sqlite3_errmsg(db_)));
}

Result<std::vector<ChunkAnswer>> ChunkAnswers::load(const ChunkKey& key) {
  Stmt select(db_,
              fmt::format("SELECT level, idx, answer, prompt_tokens, completion_tokens"
                          " FROM chunk_answers{} ORDER BY level, idx",
                          kKey),
              key);
  std::vector<ChunkAnswer> out;
  int rc = select.rc();
  while (rc == SQLITE_OK || rc == SQLITE_ROW) {
    rc = sqlite3_step(select.get());
    if (rc == SQLITE_ROW) {
      sqlite3_stmt* s = select.get();
      out.push_back({static_cast<std::uint32_t>(sqlite3_column_int64(s, 0)),
                     static_cast<std::uint32_t>(sqlite3_column_int64(s, 1)), sql::columnText(s, 2),
                     static_cast<std::uint64_t>(sqlite3_column_int64(s, 3)),
                     static_cast<std::uint64_t>(sqlite3_column_int64(s, 4))});
    }
  }
  if (rc != SQLITE_DONE) {
    return failed("load");
  }
  return out;
}

Status ChunkAnswers::record(const ChunkKey& key, const ChunkAnswer& answer) {
  Stmt upsert(
      db_, "INSERT OR REPLACE INTO chunk_answers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", key);
  int rc = upsert.rc();
  if (rc == SQLITE_OK) {
    sqlite3_stmt* s = upsert.get();
    sqlite3_bind_int64(s, 4, answer.level);
    sqlite3_bind_int64(s, 5, answer.index);
    sql::bindText(s, 6, answer.text);
    sqlite3_bind_int64(s, 7, static_cast<std::int64_t>(answer.prompt_tokens));
    sqlite3_bind_int64(s, 8, static_cast<std::int64_t>(answer.completion_tokens));
    sqlite3_bind_int64(s, 9, sql::unixNow());
    rc = sqlite3_step(s);
  }
  if (rc != SQLITE_DONE) {
    return failed("record");
  }
  return {};
}

Result<std::size_t> ChunkAnswers::forget(const ChunkKey& key) {
  Stmt remove(db_, fmt::format("DELETE FROM chunk_answers{}", kKey), key);
  int rc = remove.rc();
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(remove.get());
  }
  if (rc != SQLITE_DONE) {
    return failed("forget");
  }
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

}  // namespace dropd::pipeline
