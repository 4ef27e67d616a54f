#pragma once

// Commits finished jobs in batches on the threadpool, in two stages that
// each run one batch (at most kMaxBatch jobs) at a time while the batches
// behind it fill, so durability costs one flush per batch however fast jobs
// finish:
//  1. stage (file::stageRecords): the records are written to temp files and
//     flushed once;
//  2. finish: they are renamed into place and their folders synced
//     (file::placeStagedRecords, on the pool), their rows committed to the
//     ledger in one transaction (LedgerStore::record, which the SQLite
//     backend runs on the pool) and, only if that commit succeeded, their
//     sources moved or removed (file::disposeSources, on the pool).
// Stage 1 of a batch runs while stage 2 of the batch before it runs, so the
// ledger's commit does not hold up the next records' writes and flush. Each
// job's steps stay in order: its row is written only once its record is
// durable in place, and its source moves only once its row is durable.
// Stage 2 runs its steps back to back: a result is visible without its row
// (a crash then sends the file again), or with its source still in the
// inbox, only for as long as the steps between take.
// A record that cannot be written for a passing reason (disk full, I/O
// error) is tried again after kRetryDelay, its source untouched meanwhile, up
// to `max_retries` times (0: for ever, the daemon's choice; --once gives up so
// it can end). Any other write error (a file where a folder should be, no
// permission, read-only file system) is handed back at once with
// outcome.record_written false, to the callback given with the job (its
// pipeline's onCommitted), then the Sink's own `handed_back` hook runs (ops:
// the endpoints' ReadBudgets, which read pending(), may have room again).
// Fleet mode (useClaims()): before a batch's records are placed, the
// claims of its jobs are renewed (Claims::check); a job whose claim is lost
// has its staged record discarded. The rows are then recorded fenced on
// the claims (LedgerStore::recordClaimed): a job the ledger refuses (its
// claim was taken meanwhile) gets no row and its source is not touched.
// Such jobs come back with Job::claim_lost set and outcome.record_written
// false. See docs/fleet.md.
// Loop thread only.

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/config/secret_mask.hpp"
#include "dropd/file/commit.hpp"
#include "dropd/pipeline/claims.hpp"
#include "dropd/pipeline/job.hpp"
#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

class Sink {
 public:
  // Called once per job: its record written (and where its source went), or
  // not written (outcome.record_written false, the source untouched).
  using DoneFn = std::function<void(std::unique_ptr<Job>, const file::CommitOutcome&)>;
  // After each job's DoneFn: pending() is one less.
  using HandedBackFn = std::function<void()>;

  static constexpr std::chrono::milliseconds kRetryDelay{5000};
  static constexpr std::size_t kMaxBatch = 256;
  // Pipelines read no new file while this many jobs wait to be committed, so
  // a slow disk cannot make answered jobs pile up in memory.
  static constexpr std::size_t kHighWater = 2 * kMaxBatch;

  // `ledger` (may be null: no ledger) records each batch's rows; it must
  // outlive the Sink, and be idle (!busy()) once the Sink is drained. `mask`
  // (may be null) is applied in add() to each record and ledger row, the
  // one place where what a job writes passes (config/secret_mask.hpp); it
  // must outlive the Sink.
  [[nodiscard]] static Result<std::unique_ptr<Sink>> create(
      uv_loop_t& loop, spdlog::logger& log, std::uint32_t max_retries, LedgerStore* ledger,
      HandedBackFn handed_back, const config::SecretMask* mask = nullptr);
  // `row` is committed to the ledger with the batch, after the record is
  // durable and before the source moves (nullopt: nothing to record).
  // `done` (the job's owner) gets the job back once, later.
  void add(std::unique_ptr<Job> job, file::CommitItem item, std::optional<LedgerRow> row,
           DoneFn done);
  // A stage is on the threadpool: the Sink must outlive it.
  [[nodiscard]] bool committing() const;
  // Jobs not yet committed (in a stage, waiting for one, or waiting to retry).
  [[nodiscard]] std::size_t pending() const;
  // Told how long each batch's ledger commit took (status metrics).
  using CommitFn = std::function<void(std::chrono::nanoseconds)>;
  void observeCommits(CommitFn fn) { observe_commit_ = std::move(fn); }
  // Fleet mode: records fenced on `claims` (outlives the Sink).
  void useClaims(Claims* claims) { claims_ = claims; }

 private:
  struct Entry {
    std::unique_ptr<Job> job;
    file::CommitItem item;
    std::optional<LedgerRow> row;
    DoneFn done;
    std::uint32_t retries = 0;
    file::CommitOutcome outcome{};  // filled in stage by stage
    bool claim_lost = false;        // fleet: another instance holds the file now
  };
  enum Stage : std::size_t { kStage, kFinish, kStageCount };
  Sink(uv_loop_t& loop, spdlog::logger& log, std::uint32_t max_retries, LedgerStore* ledger,
       HandedBackFn handed_back, uv::Timer retry_timer, const config::SecretMask* mask);
  void start(Stage stage);
  // Stage 2's first step in fleet mode: the claims renewed, lost ones marked.
  void checkClaims(std::shared_ptr<std::vector<Entry>> held);
  void place(std::shared_ptr<std::vector<Entry>> held);
  void recordFenced(std::shared_ptr<std::vector<Entry>> held, std::vector<LedgerRow> rows,
                    std::vector<std::size_t> at);
  // Stage 2's steps after the records are in place: the rows, then the sources.
  void recordRows(std::shared_ptr<std::vector<Entry>> held);
  void disposeSources(std::shared_ptr<std::vector<Entry>> held);
  void onStageDone(Stage stage, std::vector<Entry> entries);
  void handBack(Entry entry);
  void retryLater(Entry entry);
  [[nodiscard]] bool shouldRetry(const Entry& entry) const;

  uv_loop_t& loop_;
  spdlog::logger& log_;
  const std::uint32_t max_retries_;
  CommitFn observe_commit_;
  LedgerStore* const ledger_;  // null without a ledger
  HandedBackFn handed_back_;
  uv::Timer retry_timer_;
  std::array<std::vector<Entry>, kStageCount> waiting_;  // for each stage, in order
  std::array<std::size_t, kStageCount> running_{};       // entries on the threadpool
  std::vector<Entry> retrying_;
  const config::SecretMask* const mask_;
  Claims* claims_ = nullptr;  // fleet mode only
};

}  // namespace dropd::pipeline
