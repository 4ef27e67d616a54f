#pragma once

// Commits finished jobs' records in batches on the threadpool
// (file::commitBatch): one batch at a time, the next one filling while it
// runs, so durability costs one flush per batch however fast jobs finish.
// A record that cannot be written for a passing reason (disk full, I/O
// error) is tried again after kRetryDelay, its source untouched meanwhile, up
// to `max_retries` times (0: for ever, the daemon's choice; --once gives up so
// it can end). Any other write error (a file where a folder should be, no
// permission, read-only file system) is handed back at once with
// outcome.record_written false. Loop thread only.

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/file/commit.hpp"
#include "dropd/pipeline/job.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

class Sink {
 public:
  // Called once per job: its record written (and where its source went), or
  // not written (outcome.record_written false, the source untouched).
  using DoneFn = std::function<void(std::unique_ptr<Job>, const file::CommitOutcome&)>;

  static constexpr std::chrono::milliseconds kRetryDelay{5000};
  static constexpr std::size_t kMaxBatch = 256;
  // Pipelines read no new file while this many jobs wait to be committed, so
  // a slow disk cannot make answered jobs pile up in memory.
  static constexpr std::size_t kHighWater = 2 * kMaxBatch;

  // `ledger` (may be null: no ledger) is used only from the batch work on
  // the threadpool, one batch at a time; it must outlive the Sink.
  [[nodiscard]] static Result<std::unique_ptr<Sink>> create(uv_loop_t& loop, spdlog::logger& log,
                                                            std::uint32_t max_retries,
                                                            Ledger* ledger, DoneFn done);
  // `row` is committed to the ledger with the batch, after the record is
  // durable and before the source moves (nullopt: nothing to record).
  void add(std::unique_ptr<Job> job, file::CommitItem item, std::optional<LedgerRow> row);
  // A batch is on the threadpool: the Sink must outlive it.
  [[nodiscard]] bool committing() const { return committing_ > 0; }
  // Jobs not yet committed (queued, committing, or waiting to retry).
  [[nodiscard]] std::size_t pending() const {
    return queue_.size() + committing_ + retrying_.size();
  }

 private:
  struct Entry {
    std::unique_ptr<Job> job;
    file::CommitItem item;
    std::optional<LedgerRow> row;
    std::uint32_t retries = 0;
  };
  Sink(uv_loop_t& loop, spdlog::logger& log, std::uint32_t max_retries, Ledger* ledger, DoneFn done,
       uv::Timer retry_timer);
  void startBatch();
  void onBatchDone(std::vector<Entry> entries, std::vector<file::CommitOutcome> outcomes);
  void retryLater(Entry entry, const std::string& error);
  [[nodiscard]] bool shouldRetry(const Entry& entry, const file::CommitOutcome& outcome) const;

  uv_loop_t& loop_;
  spdlog::logger& log_;
  const std::uint32_t max_retries_;
  Ledger* const ledger_;
  DoneFn done_;
  uv::Timer retry_timer_;
  std::vector<Entry> queue_;
  std::vector<Entry> retrying_;
  std::size_t committing_ = 0;  // entries in the batch on the threadpool
};

}  // namespace dropd::pipeline
