#pragma once

// The LedgerStore of a fleet: the ledger's tables in a PostgreSQL database
// that several dropd hosts share (docs/ledger.md, docs/fleet.md). Three
// PgLanes make its pool, one per kind of call, as SqliteLedgerStore has one
// connection per kind: the writer (record, forEachRow, forget, stats), the
// reader (findAll, latest) and the tries; calls of one kind run in order.
// Each call is ONE statement (batches travel as arrays and are unnested by
// the server), so a call is one round trip and one implicit transaction.
//
// At open the writer lane brings the schema up to date: every missing step
// of the list in pg_schema.cpp in one transaction under an advisory lock,
// so when several instances start at once one migrates and the others
// wait, then find nothing to do. A database whose schema is newer than
// this dropd's is refused. Calls made before the schema is ready wait.
//
// Loop thread only (LedgerStore's contract).

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/postgres/pg_lane.hpp"

namespace dropd::postgres {

struct PgLedgerOptions {
  // A libpq connection string or URI (docs/config.md, `ledger.url`).
  std::string url;
  // `ledger.password`, given to libpq as its own parameter, never logged.
  std::optional<std::string> password;
};

class PgLedgerStore final : public pipeline::LedgerStore {
 public:
  using ReadyFn = std::function<void(Status)>;
  // Checks the url (an Error names what libpq refused in it) and starts
  // connecting and migrating; `ready` is called once the schema is current,
  // or with the database's refusal. An unreachable server is waited for.
  [[nodiscard]] static Result<std::unique_ptr<PgLedgerStore>> open(uv_loop_t& loop,
                                                                   spdlog::logger& log,
                                                                   const PgLedgerOptions& options,
                                                                   ReadyFn ready);
  // open() with another list of migration steps (tests: upgrades, refusals).
  [[nodiscard]] static Result<std::unique_ptr<PgLedgerStore>> openWithMigrationsForTest(
      uv_loop_t& loop, spdlog::logger& log, const PgLedgerOptions& options, ReadyFn ready,
      std::span<const std::string_view> migrations);
  // The schema version this dropd writes.
  [[nodiscard]] static int schemaVersion();
  // This dropd's migration steps, oldest first (tests: an older schema).
  [[nodiscard]] static std::span<const std::string_view> migrationsForTest();

  ~PgLedgerStore() override;
  PgLedgerStore(const PgLedgerStore&) = delete;
  PgLedgerStore& operator=(const PgLedgerStore&) = delete;

  [[nodiscard]] std::string_view backend() const override { return "postgres"; }
  [[nodiscard]] std::string where() const override { return where_; }
  [[nodiscard]] bool busy() const override;
  [[nodiscard]] std::string unreachable() const override;
  [[nodiscard]] bool ready() const { return ready_; }
  // Reconnects of all lanes since open (tests).
  [[nodiscard]] int reconnectsForTest() const;

  void record(std::vector<pipeline::LedgerRow> rows, StatusDone done) override;
  void findAll(std::string pipeline, std::vector<LookupKey> keys,
               Done<std::vector<std::optional<Finished>>> done) override;
  void latest(std::string pipeline, std::string rel, Done<std::optional<History>> done) override;
  void forEachRow(std::string pipeline, std::size_t page_rows, PageVisitor visit,
                  StatusDone done) override;
  void forget(pipeline::ForgetFilter filter, Done<std::size_t> done) override;
  void stats(Done<pipeline::LedgerStats> done) override;

  // pg_tries.cpp, on the tries lane.
  void beginTry(TryKey key, std::uint32_t max_tries, std::string last_error,
                Done<Try> done) override;
  void undoTry(TryKey key, StatusDone done) override;
  void countTries(TryKey key, Done<std::uint32_t> done) override;
  // pg_claims.cpp and pg_instances.cpp.
  void claim(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
             Done<std::vector<bool>> done) override;
  void renew(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
             Done<std::vector<bool>> done) override;
  void release(std::string holder, std::vector<TryKey> keys, StatusDone done) override;
  void recordClaimed(std::string holder, std::vector<pipeline::LedgerRow> rows,
                     Done<std::vector<bool>> done) override;
  void heartbeat(std::string holder, std::chrono::seconds lease, Done<std::uint32_t> done) override;
  void leave(std::string holder, StatusDone done) override;
  // pg_chunks.cpp, on the tries lane.
  void chunkAnswers(pipeline::ChunkKey key, Done<std::vector<pipeline::ChunkAnswer>> done) override;
  void recordChunk(pipeline::ChunkKey key, pipeline::ChunkAnswer answer, StatusDone done) override;
  void forgetChunks(pipeline::ChunkKey key, Done<std::size_t> done) override;

 private:
  enum Lane : std::size_t { kWriter, kReader, kTries, kLaneCount };
  PgLedgerStore(std::string where, std::vector<std::unique_ptr<PgLane>> lanes);
  void migrate(std::span<const std::string_view> migrations, ReadyFn ready);
  // Runs `query` on `lane` once the schema is ready.
  void run(Lane lane, PgQuery query, PgLane::ResultFn done);
  void nextPage(std::string pipeline, std::int64_t after, std::size_t page_rows, PageVisitor visit,
                StatusDone done);

  const std::string where_;
  std::vector<std::unique_ptr<PgLane>> lanes_;
  bool ready_ = false;
  std::vector<std::function<void()>> parked_;  // calls made before ready
};

}  // namespace dropd::postgres
