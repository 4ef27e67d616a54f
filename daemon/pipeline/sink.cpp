#include "dropd/pipeline/sink.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {
namespace {

// What a stage's batch takes to the threadpool and brings back; the jobs
// wait on the loop thread. Index-aligned.
struct Payload {
  std::vector<file::CommitItem> items;
  std::vector<file::CommitOutcome> outcomes;
  std::vector<std::optional<LedgerRow>> rows;  // stage 2 only, and only with a ledger
  // Stage 2 only: the Sink's ledger, lent to this one batch and handed back
  // with it, so no other code can touch the connection meanwhile.
  std::unique_ptr<Ledger> ledger;
  std::chrono::nanoseconds commit_took{0};  // stage 2 with rows: the ledger's transaction
};

Result<Payload> stageRecords(Payload batch) {
  batch.outcomes = file::stageRecords(batch.items);
  return batch;
}

// The rows of the records now in place, in one transaction; false (and the
// error in every written outcome) if the commit failed.
bool recordRows(Payload& batch) {
  std::vector<LedgerRow> rows;
  rows.reserve(batch.rows.size());
  for (std::size_t i = 0; i < batch.rows.size(); ++i) {
    if (batch.rows[i] && batch.outcomes[i].record_written) {
      batch.rows[i]->result_path = batch.outcomes[i].placed_at;
      rows.push_back(std::move(*batch.rows[i]));
    }
  }
  const Status s = batch.ledger->record(rows);
  if (!s) {
    for (file::CommitOutcome& outcome : batch.outcomes) {
      if (outcome.record_written) {
        outcome.error = "ledger: " + s.error().message();
      }
    }
  }
  return s.has_value();
}

// The records into place, their rows, then the sources, with nothing in
// between: how long a result is visible without its row (a crash then sends
// its file again) or with its source still in the inbox is what it was
// before the stages overlapped.
Result<Payload> placeRecordAndDispose(Payload batch) {
  file::placeStagedRecords(batch.items, batch.outcomes);
  // A duration only (no time of day): the pool may read the steady clock.
  const auto began = std::chrono::steady_clock::now();
  if (batch.ledger != nullptr && !recordRows(batch)) {
    return batch;  // sources stay: the next start finds them without rows and redoes them
  }
  batch.commit_took = std::chrono::steady_clock::now() - began;
  file::disposeSources(batch.items, batch.outcomes);
  return batch;
}

}  // namespace

Result<std::unique_ptr<Sink>> Sink::create(uv_loop_t& loop, spdlog::logger& log,
                                           std::uint32_t max_retries,
                                           std::unique_ptr<Ledger> ledger, HandedBackFn handed_back,
                                           const config::SecretMask* mask) {
  auto timer = uv::Timer::create(loop);
  if (!timer) {
    return tl::unexpected(timer.error());
  }
  return std::unique_ptr<Sink>(new Sink(loop, log, max_retries, std::move(ledger),
                                        std::move(handed_back), std::move(*timer), mask));
}

Sink::Sink(uv_loop_t& loop, spdlog::logger& log, std::uint32_t max_retries,
           std::unique_ptr<Ledger> ledger, HandedBackFn handed_back, uv::Timer retry_timer,
           const config::SecretMask* mask)
    : loop_(loop),
      log_(log),
      max_retries_(max_retries),
      ledger_(std::move(ledger)),
      handed_back_(std::move(handed_back)),
      retry_timer_(std::move(retry_timer)),
      mask_(mask) {}

bool Sink::shouldRetry(const Entry& entry) const {
  // Passing conditions: space or quota freed, a flaky disk. Anything else
  // (ENOTDIR, EACCES, EROFS...) will not heal by waiting.
  switch (entry.outcome.error_errno) {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
    case EINTR:
    case ENOMEM:
    case EBUSY:
      return max_retries_ == 0 || entry.retries < max_retries_;
    default:
      return false;
  }
}

Ledger* Sink::ledger() const {
  DROPD_CHECK(running_[kFinish] == 0, "the ledger is lent to a batch on the pool");
  return ledger_.get();
}

std::unique_ptr<Ledger> Sink::releaseLedger() { return std::move(ledger_); }

bool Sink::committing() const {
  return std::any_of(running_.begin(), running_.end(), [](std::size_t n) { return n > 0; });
}

std::size_t Sink::pending() const {
  std::size_t n = retrying_.size();
  for (std::size_t stage = 0; stage < kStageCount; ++stage) {
    n += waiting_[stage].size() + running_[stage];
  }
  return n;
}

void Sink::add(std::unique_ptr<Job> job, file::CommitItem item, std::optional<LedgerRow> row,
               DoneFn done) {
  job->moveTo(JobState::kWriting, "committing");
  if (mask_ != nullptr && !mask_->empty()) {
    // Everything this job puts on disk passes here; an echoed key can be
    // anywhere in an answer or an error body.
    item.record = mask_->applyToJson(item.record);
    item.owner = mask_->applyToJson(item.owner);
    if (row) {
      row->last_error = mask_->apply(row->last_error);
    }
  }
  waiting_[kStage].push_back(
      {std::move(job), std::move(item), std::move(row), std::move(done), 0, {}});
  start(kStage);
}

void Sink::start(Stage stage) {
  std::vector<Entry>& waiting = waiting_[stage];
  const std::size_t n = running_[stage] > 0 ? 0 : std::min(waiting.size(), kMaxBatch);
  if (n == 0) {
    return;
  }
  auto held = std::make_shared<std::vector<Entry>>(
      std::make_move_iterator(waiting.begin()),
      std::make_move_iterator(waiting.begin() + static_cast<long>(n)));
  waiting.erase(waiting.begin(), waiting.begin() + static_cast<long>(n));
  Payload batch;
  const bool with_rows = stage == kFinish && ledger_ != nullptr;
  if (with_rows) {
    batch.ledger = std::move(ledger_);  // back in the callback, before anything else runs
  }
  for (Entry& e : *held) {
    batch.items.push_back(std::move(e.item));
    batch.outcomes.push_back(std::move(e.outcome));
    if (with_rows) {
      batch.rows.push_back(std::move(e.row));  // handed back for a record to retry
    }
  }
  constexpr std::array<Result<Payload> (*)(Payload), kStageCount> kWork = {stageRecords,
                                                                           placeRecordAndDispose};
  running_[stage] = n;
  const Status queued = uv::queueWork<Payload, Payload>(
      loop_, std::move(batch), kWork[stage], [this, stage, held](Result<Payload> out) {
        DROPD_CHECK(out.has_value(), "sink work cancelled");
        if (out->ledger) {
          ledger_ = std::move(out->ledger);
          if (observe_commit_) {
            observe_commit_(out->commit_took);
          }
        }
        for (std::size_t i = 0; i < held->size(); ++i) {
          (*held)[i].item = std::move(out->items[i]);
          (*held)[i].outcome = std::move(out->outcomes[i]);
          if (i < out->rows.size()) {
            (*held)[i].row = std::move(out->rows[i]);
          }
        }
        onStageDone(stage, std::move(*held));
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for the sink");
}

void Sink::onStageDone(Stage stage, std::vector<Entry> entries) {
  running_[stage] = 0;
  for (Entry& e : entries) {
    if (stage == kStage && e.outcome.record_staged) {
      waiting_[stage + 1].push_back(std::move(e));
    } else {
      handBack(std::move(e));
    }
  }
  if (stage + 1 < kStageCount) {
    start(static_cast<Stage>(stage + 1));
  }
  start(stage);
}

void Sink::handBack(Entry entry) {
  if (!entry.outcome.record_written && shouldRetry(entry)) {
    retryLater(std::move(entry));
    return;
  }
  if (entry.outcome.record_written && !entry.outcome.source_disposed) {
    log_.error("sink.source_not_moved path={:?} error={:?}", entry.item.source.string(),
               entry.outcome.error);
  }
  entry.done(std::move(entry.job), entry.outcome);  // not written: the source is untouched
  if (handed_back_) {
    handed_back_();
  }
}

void Sink::retryLater(Entry entry) {
  log_.warn("sink.write_failed record={:?} error={:?} retry_in_ms={}",
            entry.item.record_path.string(), entry.outcome.error, kRetryDelay.count());
  ++entry.retries;
  entry.outcome = {};
  retrying_.push_back(std::move(entry));
  if (retry_timer_.active()) {
    return;
  }
  const Status started = retry_timer_.start(kRetryDelay, [this] {
    for (Entry& e : retrying_) {
      waiting_[kStage].push_back(std::move(e));
    }
    retrying_.clear();
    start(kStage);
  });
  DROPD_CHECK(started.has_value(), "sink retry timer");
}

}  // namespace dropd::pipeline
