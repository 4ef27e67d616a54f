#pragma once

// The ledger as one interface with two backends (docs/ledger.md): the
// SQLite file in state_dir (SqliteLedgerStore, this module) and a
// PostgreSQL database shared by a fleet (postgres::PgLedgerStore). Both pass
// the same contract suite (tests/postgres/ledger_contract_test.cpp).
//
// It serves three users, each with its own group of calls:
//  - finished rows: record() a batch, look files up (findAll(), latest()),
//    stream a pipeline's rows at start (forEachRow()), forget(), stats();
//  - extraction tries: beginTry(), undoTry(), countTries();
//  - jobs in flight: claim(), renew(), release() of a fleet's files, and
//    recordClaimed(), record() fenced by them (docs/ledger.md, docs/fleet.md;
//    the daemon's Claims and Sink call them with backend: postgres);
//  - the fleet's live instances: heartbeat(), leave() (docs/fleet.md,
//    "Shared endpoint limits");
//  - long documents' chunk answers: chunkAnswers(), recordChunk(),
//    forgetChunks() (docs/chunking.md).
//
// Threads: loop thread only. Every call returns at once; its callback runs
// later on the loop thread, exactly once, never inside the call. The
// SQLite backend runs its blocking calls on the libuv threadpool, one
// connection lent to one work at a time (as the Sink and the LookupQueue
// did); the PostgreSQL backend drives libpq's non-blocking API from the
// loop (PQsocket on a uv_poll). Calls of one kind complete in the order
// they were made; record() of one batch is durable (all rows or none)
// when its callback says success.
//
// The store must outlive its callbacks: destroy it only when !busy().
// Errors: an Error naming the backend's place (ledger.db's path, or the
// database's host/port/name; never a password) and what failed.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/error.hpp"
#include "dropd/pipeline/chunk_answers.hpp"
#include "dropd/pipeline/extract_tries.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/pipeline/ledger_lookup.hpp"

namespace dropd::pipeline {

class LedgerStore {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;
  using StatusDone = std::function<void(Status)>;
  using Finished = LedgerLookup::Finished;
  using History = LedgerLookup::History;
  using LookupKey = LedgerLookup::Key;
  using TryKey = ExtractTries::Key;
  using Try = ExtractTries::Try;
  // Called on the loop thread with a page of rows, oldest first.
  using PageVisitor = std::function<void(std::vector<LedgerRow>&&)>;

  virtual ~LedgerStore() = default;

  // "sqlite" or "postgres".
  [[nodiscard]] virtual std::string_view backend() const = 0;
  // Where the rows live, safe to log: ledger.db's path, or host:port/dbname.
  [[nodiscard]] virtual std::string where() const = 0;
  // A call has not called back yet.
  [[nodiscard]] virtual bool busy() const = 0;
  // Why the ledger cannot be reached now (its calls wait), for /readyz; an
  // empty string while it can. The SQLite file is always reachable.
  [[nodiscard]] virtual std::string unreachable() const { return {}; }

  // --- finished rows ---
  // Inserts or updates every row (on its key) as ONE transaction, and ends
  // the extraction tries of rows marked `extracted` in it.
  virtual void record(std::vector<LedgerRow> rows, StatusDone done) = 0;
  // For each key, the row of that file version in `pipeline`, if any,
  // index-aligned with `keys`; one read snapshot for the whole list.
  virtual void findAll(std::string pipeline, std::vector<LookupKey> keys,
                       Done<std::vector<std::optional<Finished>>> done) = 0;
  // The most recently updated row of (pipeline, rel), any version.
  virtual void latest(std::string pipeline, std::string rel, Done<std::optional<History>> done) = 0;
  // Every row of `pipeline`, oldest first, in pages of at most `page_rows`
  // (so a large ledger is never held whole); `done` after the last page.
  virtual void forEachRow(std::string pipeline, std::size_t page_rows, PageVisitor visit,
                          StatusDone done) = 0;
  // Removes the matching rows in one transaction; says how many.
  virtual void forget(ForgetFilter filter, Done<std::size_t> done) = 0;
  virtual void stats(Done<LedgerStats> done) = 0;

  // --- extraction tries (ExtractTries' contract) ---
  // Below `max_tries` one more try is counted, durably, before the answer.
  virtual void beginTry(TryKey key, std::uint32_t max_tries, std::string last_error,
                        Done<Try> done) = 0;
  virtual void undoTry(TryKey key, StatusDone done) = 0;
  virtual void countTries(TryKey key, Done<std::uint32_t> done) = 0;

  // --- jobs in flight: claims (docs/ledger.md, "Jobs in flight") ---
  // `holder` names one instance (host, pid, start time). For each of the
  // distinct `keys`, index-aligned: true when `holder` now holds it for
  // `lease` (it was free, expired, or already its own), false while another
  // holder's claim runs. The SQLite backend grants every claim without I/O:
  // its answers are those of a fleet of one.
  virtual void claim(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
                     Done<std::vector<bool>> done) = 0;
  // Extends `holder`'s claims on `keys` by `lease`: false for each one it
  // no longer holds (expired and taken, or released).
  virtual void renew(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
                     Done<std::vector<bool>> done) = 0;
  // Gives `holder`'s claims on `keys` up.
  virtual void release(std::string holder, std::vector<TryKey> keys, StatusDone done) = 0;
  // record() fenced by the claims: in ONE transaction, each row is written
  // only where `holder` still holds the claim of its key (pipeline, rel and
  // the identity's ino, size, mtime), and that claim is given up. For each
  // row, index-aligned: true = written. A holder that lost a claim (its
  // lease expired and another instance took the file) writes nothing for
  // it. The SQLite backend writes every row (a fleet of one).
  virtual void recordClaimed(std::string holder, std::vector<LedgerRow> rows,
                             Done<std::vector<bool>> done) = 0;

  // --- the fleet's live instances ---
  // Marks `holder` seen now (the server's clock) and answers how many
  // instances were seen within the last `lease`, `holder` included (>= 1).
  // The SQLite backend answers 1 without I/O (a fleet of one).
  virtual void heartbeat(std::string holder, std::chrono::seconds lease,
                         Done<std::uint32_t> done) = 0;
  // Forgets `holder` (a clean stop): the others stop counting it at once.
  virtual void leave(std::string holder, StatusDone done) = 0;

  // --- long documents' chunk answers (ChunkAnswers' contract, chunk_answers.hpp) ---
  // Every answer of `key`, ordered by level and index.
  virtual void chunkAnswers(ChunkKey key, Done<std::vector<ChunkAnswer>> done) = 0;
  // Inserts or replaces one answer, durably before `done`.
  virtual void recordChunk(ChunkKey key, ChunkAnswer answer, StatusDone done) = 0;
  // Removes every answer of `key`; says how many.
  virtual void forgetChunks(ChunkKey key, Done<std::size_t> done) = 0;
};

}  // namespace dropd::pipeline
