#pragma once

// The LedgerStore of one host: state_dir/ledger.db (docs/ledger.md). It
// owns the four SQLite connections the daemon has always used, each lent
// to one threadpool work at a time, so none needs a lock of its own:
//  - the writer (Ledger): record(), forEachRow(), forget(), stats();
//  - the reader (LedgerLookup): findAll(), latest(), which WAL lets run
//    beside a commit;
//  - the tries (ExtractTries, with its own mutex): beginTry() and the rest;
//  - the chunk answers (ChunkAnswers): chunkAnswers() and the rest.
// Calls on one connection run in the order they were made.
//
// Loop thread only (LedgerStore's contract); open() blocks (startup).

#include <filesystem>
#include <memory>
#include <string>

#include <uv.h>

#include "dropd/pipeline/ledger_store.hpp"

namespace dropd::pipeline {

namespace detail {
struct SqliteLanes;
}

class SqliteLedgerStore final : public LedgerStore {
 public:
  // Ledger::open()'s checks and migrations, then the reader and the tries
  // connections. Blocking: call before uv_run() (or from a tool).
  [[nodiscard]] static Result<std::unique_ptr<SqliteLedgerStore>> open(
      uv_loop_t& loop, const std::filesystem::path& state_dir);
  ~SqliteLedgerStore() override;
  SqliteLedgerStore(const SqliteLedgerStore&) = delete;
  SqliteLedgerStore& operator=(const SqliteLedgerStore&) = delete;

  [[nodiscard]] std::string_view backend() const override { return "sqlite"; }
  [[nodiscard]] std::string where() const override;
  [[nodiscard]] bool busy() const override;
  // The writer connection itself, for blocking startup code on the loop
  // thread (dedupe's rows before the pipelines start) while no call holds
  // it; null while one does.
  [[nodiscard]] Ledger* writerWhileIdle() const;

  void record(std::vector<LedgerRow> rows, StatusDone done) override;
  void findAll(std::string pipeline, std::vector<LookupKey> keys,
               Done<std::vector<std::optional<Finished>>> done) override;
  void latest(std::string pipeline, std::string rel, Done<std::optional<History>> done) override;
  void forEachRow(std::string pipeline, std::size_t page_rows, PageVisitor visit,
                  StatusDone done) override;
  void forget(ForgetFilter filter, Done<std::size_t> done) override;
  void stats(Done<LedgerStats> done) override;

  void beginTry(TryKey key, std::uint32_t max_tries, std::string last_error,
                Done<Try> done) override;
  void undoTry(TryKey key, StatusDone done) override;
  void countTries(TryKey key, Done<std::uint32_t> done) override;
  void claim(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
             Done<std::vector<bool>> done) override;
  void renew(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
             Done<std::vector<bool>> done) override;
  void release(std::string holder, std::vector<TryKey> keys, StatusDone done) override;
  void heartbeat(std::string holder, std::chrono::seconds lease, Done<std::uint32_t> done) override;
  void leave(std::string holder, StatusDone done) override;
  void recordClaimed(std::string holder, std::vector<LedgerRow> rows,
                     Done<std::vector<bool>> done) override;
  void chunkAnswers(ChunkKey key, Done<std::vector<ChunkAnswer>> done) override;
  void recordChunk(ChunkKey key, ChunkAnswer answer, StatusDone done) override;
  void forgetChunks(ChunkKey key, Done<std::size_t> done) override;

 private:
  explicit SqliteLedgerStore(std::unique_ptr<detail::SqliteLanes> lanes);
  void nextPage(std::string pipeline, std::int64_t after, std::size_t page_rows, PageVisitor visit,
                StatusDone done);
  std::unique_ptr<detail::SqliteLanes> lanes_;
};

}  // namespace dropd::pipeline
