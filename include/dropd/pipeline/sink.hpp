#pragma once

// Commits finished jobs' records in batches on the threadpool
// (file::commitBatch): one batch at a time, the next one filling while it
// runs, so durability costs one flush per batch however fast jobs finish.
// A record that cannot be written (disk full, output folder gone) is tried
// again after kRetryDelay; its source is not touched meanwhile. Loop thread only.

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/file/commit.hpp"
#include "dropd/pipeline/job.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

class Sink {
 public:
  // Called once per job whose record is written (outcome.record_written), with
  // where its source went; a job whose record keeps failing stays here.
  using DoneFn = std::function<void(std::unique_ptr<Job>, const file::CommitOutcome&)>;

  static constexpr std::chrono::milliseconds kRetryDelay{5000};
  static constexpr std::size_t kMaxBatch = 512;

  [[nodiscard]] static Result<std::unique_ptr<Sink>> create(uv_loop_t& loop, spdlog::logger& log,
                                                            DoneFn done);
  void add(std::unique_ptr<Job> job, file::CommitItem item);
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
  };
  Sink(uv_loop_t& loop, spdlog::logger& log, DoneFn done, uv::Timer retry_timer);
  void startBatch();
  void onBatchDone(std::vector<Entry> entries, std::vector<file::CommitOutcome> outcomes);
  void retryLater(Entry entry, const std::string& error);

  uv_loop_t& loop_;
  spdlog::logger& log_;
  DoneFn done_;
  uv::Timer retry_timer_;
  std::vector<Entry> queue_;
  std::vector<Entry> retrying_;
  std::size_t committing_ = 0;  // entries in the batch on the threadpool
};

}  // namespace dropd::pipeline
