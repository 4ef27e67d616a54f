#include "dropd/pipeline/sink.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {
namespace {

// What a batch takes to the threadpool and brings back; the jobs wait on
// the loop thread. Index-aligned.
struct Payload {
  std::vector<file::CommitItem> items;
  std::vector<file::CommitOutcome> outcomes;
  std::vector<bool> discard;  // fleet: claim lost, the staged record is not placed
};

Result<Payload> stageBatch(Payload batch) {
  batch.outcomes = file::stageRecords(batch.items);
  return batch;
}

Result<Payload> placeBatch(Payload batch) {
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    if (batch.discard[i]) {
      file::discardStagedRecord(batch.items[i], batch.outcomes[i]);
    }
  }
  file::placeStagedRecords(batch.items, batch.outcomes);
  return batch;
}

// Fleet: a record placed whose row the fence refused is taken back, so
// only the holder's outcome stays (docs/fleet.md).
Result<Payload> disposeBatch(Payload batch) {
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    if (batch.discard[i] && !batch.items[i].record_written_before) {
      (void)file::takeBackRecord(batch.outcomes[i], batch.outcomes[i].error);
    }
  }
  file::disposeSources(batch.items, batch.outcomes);
  return batch;
}

}  // namespace

Result<std::unique_ptr<Sink>> Sink::create(uv_loop_t& loop, spdlog::logger& log,
                                           std::uint32_t max_retries, LedgerStore* ledger,
                                           HandedBackFn handed_back,
                                           const config::SecretMask* mask) {
  auto timer = uv::Timer::create(loop);
  if (!timer) {
    return tl::unexpected(timer.error());
  }
  return std::unique_ptr<Sink>(
      new Sink(loop, log, max_retries, ledger, std::move(handed_back), std::move(*timer), mask));
}

Sink::Sink(uv_loop_t& loop, spdlog::logger& log, std::uint32_t max_retries, LedgerStore* ledger,
           HandedBackFn handed_back, uv::Timer retry_timer, const config::SecretMask* mask)
    : loop_(loop),
      log_(log),
      max_retries_(max_retries),
      ledger_(ledger),
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

namespace {

// Runs `work` on the pool over the held entries' items and outcomes, then
// `then` on the loop thread with them back in place. (A template only so
// it can name the Sink's private Entry.)
template <typename Entry>
void onPool(uv_loop_t& loop, const std::shared_ptr<std::vector<Entry>>& held,
            Result<Payload> (*work)(Payload), std::function<void()> then) {
  Payload batch;
  for (Entry& e : *held) {
    batch.items.push_back(std::move(e.item));
    batch.outcomes.push_back(std::move(e.outcome));
    batch.discard.push_back(e.claim_lost);
  }
  const Status queued = uv::queueWork<Payload, Payload>(
      loop, std::move(batch), work, [held, then = std::move(then)](Result<Payload> out) {
        DROPD_CHECK(out.has_value(), "sink work cancelled");
        for (std::size_t i = 0; i < held->size(); ++i) {
          (*held)[i].item = std::move(out->items[i]);
          (*held)[i].outcome = std::move(out->outcomes[i]);
        }
        then();
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for the sink");
}

}  // namespace

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
  running_[stage] = n;
  if (stage == kStage) {
    onPool(loop_, held, stageBatch, [this, held] { onStageDone(kStage, std::move(*held)); });
    return;
  }
  if (claims_ != nullptr) {
    checkClaims(std::move(held));
    return;
  }
  place(std::move(held));
}

void Sink::place(std::shared_ptr<std::vector<Entry>> held) {
  onPool(loop_, held, placeBatch, [this, held] { recordRows(held); });
}

// A lease runs for Claims::lease() from this renewal: the records are
// placed and their rows recorded well within it, so a record is placed
// only while this instance holds its file. (A stall longer than the lease
// between here and the record is caught by the fence; docs/fleet.md.)
void Sink::checkClaims(std::shared_ptr<std::vector<Entry>> held) {
  std::vector<Claims::Key> keys;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < held->size(); ++i) {
    const Entry& e = (*held)[i];
    if (e.row && e.job->claimed && e.outcome.record_staged) {
      keys.push_back({e.job->pipeline_name, e.job->rel, e.job->claimed_as});
      at.push_back(i);
    }
  }
  if (keys.empty()) {
    place(std::move(held));
    return;
  }
  claims_->check(std::move(keys), [this, held, at = std::move(at)](Result<std::vector<bool>> ok) {
    if (!ok) {
      // The fenced record still decides; the check only spares a record.
      log_.warn("claims.check_failed error={:?}", ok.error().message());
    } else {
      for (std::size_t j = 0; j < at.size() && j < ok->size(); ++j) {
        (*held)[at[j]].claim_lost = !(*ok)[j];
      }
    }
    place(held);
  });
}

// The rows of the records now in place, in one transaction. A failed
// commit leaves every source of the batch where it is (the next start
// finds them without rows and redoes them), its error in each outcome.
void Sink::recordRows(std::shared_ptr<std::vector<Entry>> held) {
  std::vector<LedgerRow> rows;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < held->size(); ++i) {
    Entry& e = (*held)[i];
    if (e.row && e.outcome.record_written) {
      e.row->result_path = e.outcome.placed_at;
      rows.push_back(std::move(*e.row));  // written: never retried, the row is not needed again
      at.push_back(i);
    }
  }
  if (ledger_ == nullptr || rows.empty()) {
    disposeSources(std::move(held));
    return;
  }
  if (claims_ != nullptr) {
    recordFenced(std::move(held), std::move(rows), std::move(at));
    return;
  }
  const auto began = std::chrono::steady_clock::now();
  ledger_->record(std::move(rows), [this, held, began](Status st) {
    if (observe_commit_) {
      observe_commit_(std::chrono::steady_clock::now() - began);
    }
    if (!st) {
      for (Entry& e : *held) {
        if (e.outcome.record_written) {
          e.outcome.error = "ledger: " + st.error().message();
        }
      }
      onStageDone(kFinish, std::move(*held));
      return;
    }
    disposeSources(held);
  });
}

void Sink::recordFenced(std::shared_ptr<std::vector<Entry>> held, std::vector<LedgerRow> rows,
                        std::vector<std::size_t> at) {
  const auto began = std::chrono::steady_clock::now();
  ledger_->recordClaimed(
      claims_->holder(), std::move(rows),
      [this, held, at = std::move(at), began](Result<std::vector<bool>> written) {
        if (observe_commit_) {
          observe_commit_(std::chrono::steady_clock::now() - began);
        }
        if (!written) {
          for (Entry& e : *held) {
            if (e.outcome.record_written) {
              e.outcome.error = "ledger: " + written.error().message();
            }
          }
          onStageDone(kFinish, std::move(*held));
          return;
        }
        for (std::size_t j = 0; j < at.size(); ++j) {
          if (j >= written->size() || !(*written)[j]) {
            // Another instance holds the file now: its work wins; this
            // job's source stays for it, and its placed record is taken
            // back (disposeBatch), whatever kind the holder's outcome is.
            Entry& e = (*held)[at[j]];
            e.claim_lost = true;
            e.outcome.record_written = false;
          }
        }
        disposeSources(held);
      });
}

void Sink::disposeSources(std::shared_ptr<std::vector<Entry>> held) {
  onPool(loop_, held, disposeBatch, [this, held] { onStageDone(kFinish, std::move(*held)); });
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
  if (entry.claim_lost) {
    entry.job->claim_lost = true;
    entry.outcome.record_written = false;
    entry.done(std::move(entry.job), entry.outcome);
    if (handed_back_) {
      handed_back_();
    }
    return;
  }
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
