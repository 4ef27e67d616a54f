#include "dropd/pipeline/sink.hpp"

#include <cerrno>

#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {
namespace {

struct BatchIn {
  std::vector<file::CommitItem> items;
  std::vector<std::optional<LedgerRow>> rows;  // one per item
  Ledger* ledger = nullptr;
};
struct BatchOut {
  std::vector<file::CommitItem> items;  // handed back for the records to retry
  std::vector<file::CommitOutcome> outcomes;
};

// Threadpool: the batch's records, then its ledger rows (in one
// transaction, once the records are durable), then the sources.
Result<BatchOut> commitWithLedger(BatchIn batch) {
  const auto record_rows = [&batch](const std::vector<file::CommitOutcome>& outcomes,
                                    std::string& error) {
    if (batch.ledger == nullptr) {
      return true;
    }
    std::vector<LedgerRow> rows;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].record_written && batch.rows[i]) {
        batch.rows[i]->result_path = outcomes[i].placed_at;
        rows.push_back(std::move(*batch.rows[i]));
      }
    }
    if (const Status s = batch.ledger->record(rows); !s) {
      // Sources stay: the next start finds them without rows and redoes them.
      error = "ledger: " + s.error().message();
      return false;
    }
    return true;
  };
  auto outcomes = file::commitBatch(batch.items, record_rows);
  return BatchOut{std::move(batch.items), std::move(outcomes)};
}

}  // namespace

Result<std::unique_ptr<Sink>> Sink::create(uv_loop_t& loop, spdlog::logger& log,
                                           std::uint32_t max_retries, Ledger* ledger, DoneFn done) {
  auto timer = uv::Timer::create(loop);
  if (!timer) {
    return tl::unexpected(timer.error());
  }
  return std::unique_ptr<Sink>(
      new Sink(loop, log, max_retries, ledger, std::move(done), std::move(*timer)));
}

Sink::Sink(uv_loop_t& loop, spdlog::logger& log, std::uint32_t max_retries, Ledger* ledger,
           DoneFn done, uv::Timer retry_timer)
    : loop_(loop),
      log_(log),
      max_retries_(max_retries),
      ledger_(ledger),
      done_(std::move(done)),
      retry_timer_(std::move(retry_timer)) {}

bool Sink::shouldRetry(const Entry& entry, const file::CommitOutcome& outcome) const {
  // Passing conditions: space or quota freed, a flaky disk. Anything else
  // (ENOTDIR, EACCES, EROFS...) will not heal by waiting.
  switch (outcome.error_errno) {
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

void Sink::add(std::unique_ptr<Job> job, file::CommitItem item, std::optional<LedgerRow> row) {
  job->state = JobState::kWriting;
  queue_.push_back({std::move(job), std::move(item), std::move(row), 0});
  if (committing_ == 0) {
    startBatch();
  }
}

void Sink::startBatch() {
  const std::size_t n = std::min(queue_.size(), kMaxBatch);
  if (n == 0) {
    return;
  }
  std::vector<Entry> entries(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
  BatchIn in;
  in.items.reserve(n);
  in.ledger = ledger_;
  for (Entry& e : entries) {
    in.items.push_back(std::move(e.item));
    if (ledger_ != nullptr) {
      in.rows.push_back(e.row);  // copied: a retry needs it again
    }
  }
  committing_ = n;
  // The jobs wait here on the loop thread; only their records travel.
  auto held = std::make_shared<std::vector<Entry>>(std::move(entries));
  const Status queued = uv::queueWork<BatchIn, BatchOut>(
      loop_, std::move(in), commitWithLedger, [this, held](Result<BatchOut> out) {
        DROPD_CHECK(out.has_value(), "sink batch work cancelled");
        for (std::size_t i = 0; i < held->size(); ++i) {
          (*held)[i].item = std::move(out->items[i]);
        }
        onBatchDone(std::move(*held), std::move(out->outcomes));
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for the sink");
}

void Sink::onBatchDone(std::vector<Entry> entries, std::vector<file::CommitOutcome> outcomes) {
  committing_ = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!outcomes[i].record_written && shouldRetry(entries[i], outcomes[i])) {
      retryLater(std::move(entries[i]), outcomes[i].error);
      continue;
    }
    if (outcomes[i].record_written && !outcomes[i].source_disposed) {
      log_.error("sink.source_not_moved path={:?} error={:?}", entries[i].item.source.string(),
                 outcomes[i].error);
    }
    done_(std::move(entries[i].job), outcomes[i]);
  }
  startBatch();
}

void Sink::retryLater(Entry entry, const std::string& error) {
  log_.warn("sink.write_failed record={:?} error={:?} retry_in_ms={}",
            entry.item.record_path.string(), error, kRetryDelay.count());
  ++entry.retries;
  retrying_.push_back(std::move(entry));
  if (retry_timer_.active()) {
    return;
  }
  const Status started = retry_timer_.start(kRetryDelay, [this] {
    for (Entry& e : retrying_) {
      queue_.push_back(std::move(e));
    }
    retrying_.clear();
    if (committing_ == 0) {
      startBatch();
    }
  });
  DROPD_CHECK(started.has_value(), "sink retry timer");
}

}  // namespace dropd::pipeline
