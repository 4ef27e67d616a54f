// Pipeline, processing half: read on the threadpool, send, records, commit.
#include "dropd/pipeline/pipeline.hpp"

#include "dropd/pipeline/records.hpp"
#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {
namespace {

using std::chrono::milliseconds;

struct ReadIn {
  file::ReadRequest request;
  std::shared_ptr<const llm::RequestBuilder> builder;
  std::string rel;
  bool send_binary = false;
  std::optional<file::FileIdentity> kept;  // finished earlier and kept in place (no ledger)
  // With a ledger: the file is looked up there first (finished before?).
  LedgerLookup* lookup = nullptr;
  std::string pipeline;
  std::string record_rel;
};

struct ReadOut {
  file::ReadOutcome outcome;  // content moved out into the body
  std::shared_ptr<const std::string> body;
  bool unchanged_since_kept = false;
  bool binary = false;
  std::optional<file::FileIdentity> finished_as;  // this version has a ledger row...
  LedgerLookup::Finished finished;                // ...which says this
  std::string lookup_error;                       // the look-up failed: nothing was read
};

// Threadpool: read, measure, and build the request body, so the loop thread
// never touches the file's bytes. The raw content is freed here; only the
// body travels on.
Result<ReadOut> readAndBuild(ReadIn in) {
  ReadOut out;
  if (in.kept || in.lookup != nullptr) {
    file::FileIdentity now;
    std::string ignored;
    if (file::statFile(in.request.path, now, ignored) == file::ReadStatus::kOk) {
      if (in.kept && now == *in.kept) {
        out.unchanged_since_kept = true;
        return out;
      }
      if (in.lookup != nullptr) {
        auto found = in.lookup->find(in.pipeline, in.record_rel, now);
        if (!found) {
          out.lookup_error = found.error().message();
          return out;
        }
        if (*found) {
          out.finished_as = now;
          out.finished = std::move(**found);
          return out;
        }
      }
    }
  }
  out.outcome = file::readWhole(in.request);
  if (out.outcome.status != file::ReadStatus::kOk) {
    return out;
  }
  out.binary = file::looksBinary(out.outcome.stats);
  if (!out.binary || in.send_binary) {
    const file::Stats& s = out.outcome.stats;
    const std::size_t slash = in.rel.rfind('/');
    config::TemplateValues values;
    values.content = out.outcome.content;
    const std::string_view rel = in.rel;  // a view: substr must not make a temporary
    values.filename = slash == std::string::npos ? rel : rel.substr(slash + 1);
    values.path = in.rel;
    values.lines = s.lines;
    values.words = s.words;
    values.chars = s.chars;
    values.bytes = s.bytes;
    out.body = std::make_shared<const std::string>(in.builder->build(values));
  }
  out.outcome.content = {};
  return out;
}

file::Disposal disposalOf(config::SourceAction action) {
  switch (action) {
    case config::SourceAction::kMove:
      return file::Disposal::kMove;
    case config::SourceAction::kDelete:
      return file::Disposal::kDelete;
    case config::SourceAction::kKeep:
      return file::Disposal::kKeep;
  }
  return file::Disposal::kKeep;
}

}  // namespace

Pipeline::Pipeline(Deps deps, const config::Pipeline& config, const config::Endpoint& endpoint,
                   std::size_t index)
    : deps_(deps),
      config_(config),
      endpoint_name_(endpoint.name),
      model_(endpoint.model),
      index_(index),
      builder_(std::make_shared<const llm::RequestBuilder>(endpoint, config.prompt)),
      filter_(config.include, config.exclude),
      deferred_timer_(*uv::Timer::create(deps.loop)),
      rescan_timer_(*uv::Timer::create(deps.loop)),
      poll_timer_(*uv::Timer::create(deps.loop)) {
  for (const auto& path : config_.watch) {
    const std::string& prefix = config_.record_prefixes[roots_.size()];  // roots_.size(): its index
    roots_.push_back({path, prefix, nullptr});
  }
  deps_.dispatcher.addRoomListener([this] { pump(); });
}

Pipeline::~Pipeline() { stopDiscovery(); }

std::string Pipeline::keyOf(std::size_t root, const std::string& rel) const {
  return (roots_[root].path / rel).string();
}

bool Pipeline::idle() const {
  return scans_.empty() && !chunk_running_ && backlog_.empty() && deferred_.empty() &&
         known_.empty();
}

void Pipeline::pump() {
  while (!backlog_.empty() && deps_.dispatcher.roomForRead() &&
         deps_.sink.pending() < Sink::kHighWater) {
    Pending next = std::move(backlog_.front());
    backlog_.pop_front();
    startRead(std::move(next));
  }
  scanNextChunk();  // the backlog may have drained below its low mark
}

void Pipeline::startRead(Pending pending) {
  auto job = std::make_unique<Job>();
  job->pipeline = index_;
  job->rel = roots_[pending.root].record_prefix + pending.rel;
  job->path = roots_[pending.root].path / pending.rel;
  job->state = JobState::kReading;
  ReadIn in{{job->path, config_.max_file_size_bytes,
             deps_.clock.wallNow() - std::chrono::duration_cast<WallTime::duration>(config_.settle),
             pending.seen},
            builder_,
            pending.rel,
            config_.binary == config::BinaryPolicy::kSend,
            std::nullopt,
            pending.ledger_checked ? nullptr : deps_.lookup,
            config_.name,
            job->rel};
  if (const auto kept = finished_.find(job->rel); kept != finished_.end()) {
    in.kept = kept->second.identity;
  }
  if (const auto known = known_.find(job->path.string()); known != known_.end()) {
    known->second.read_started = true;
  }
  deps_.dispatcher.readStarted();
  ++reads_running_;
  auto holder = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  const Status queued = uv::queueWork<ReadIn, ReadOut>(
      deps_.loop, std::move(in), readAndBuild, [this, holder, pending](Result<ReadOut> out) {
        DROPD_CHECK(out.has_value(), "read work cancelled");
        --reads_running_;
        std::unique_ptr<Job> read = std::move(*holder);
        if (out->unchanged_since_kept) {
          rediscover(forget(read->path.string()));
        } else if (out->finished_as) {
          // Finished before (a rescan raced its commit, or a crash cut off
          // its move): never sent again.
          const std::optional<Known> again = forget(read->path.string());
          onFinishedBefore(pending.root, pending.rel,
                           {*out->finished_as, out->finished.done, out->finished.result_path});
          rediscover(again);
        } else if (pending.recheck && out->outcome.status == file::ReadStatus::kVanished) {
          rediscover(forget(read->path.string()));  // nothing new was there
        } else if (!out->lookup_error.empty()) {
          // Without the ledger's word the file might be sent twice: wait.
          deps_.log.error("ledger.lookup_failed pipeline={} file={:?} error={:?} retry_in_ms={}",
                          config_.name, read->rel, out->lookup_error,
                          std::chrono::milliseconds(kPollInterval).count());
          defer(pending, kPollInterval);
        } else if (out->outcome.status == file::ReadStatus::kUnsettled ||
                   out->outcome.status == file::ReadStatus::kChanged) {
          // Still being written: look again later (polled: compare with this look).
          Pending again = pending;
          const milliseconds wait = again.seen ? stabilityWait() : config_.settle;
          if (again.seen) {
            again.seen = out->outcome.identity;
          }
          defer(std::move(again), wait);
        } else {
          read->body = std::move(out->body);
          onRead(std::move(read), std::move(out->outcome));
        }
        deps_.dispatcher.readEnded();
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for a read");
}

void Pipeline::onRead(std::unique_ptr<Job> job, file::ReadOutcome outcome) {
  using file::ReadStatus;
  job->identity = outcome.identity;
  switch (outcome.status) {
    case ReadStatus::kOk:
      break;
    case ReadStatus::kVanished:
      deps_.log.info("job.vanished pipeline={} file={:?}", config_.name, job->rel);
      rediscover(forget(job->path.string()));
      return;
    case ReadStatus::kTooLarge:
      failJob(std::move(job), llm::FailureKind::kSkipped,
              fmt::format("file is {} bytes, over max_file_size ({} bytes)", outcome.identity.size,
                          config_.max_file_size_bytes));
      return;
    case ReadStatus::kNotRegular:
      failJob(std::move(job), llm::FailureKind::kSkipped,
              "not a regular file (symlinks are never followed)");
      return;
    default:
      failJob(std::move(job), llm::FailureKind::kRead, outcome.error);
      return;
  }
  counters_.bytes_read += outcome.stats.bytes;
  job->stats = std::move(outcome.stats);
  if (!job->body) {
    failJob(std::move(job), llm::FailureKind::kSkipped,
            "binary file (a NUL byte or mostly invalid UTF-8); "
            "set binary: send to send such files");
    return;
  }
  if (config_.dedupe == config::Dedupe::kSha256) {
    if (const auto earlier = done_by_sha_.find(job->stats->sha256); earlier != done_by_sha_.end()) {
      job->duplicate_of = earlier->second;
      job->body.reset();
      commit(std::move(job), /*success=*/true);
      return;
    }
  }
  deps_.dispatcher.submit(std::move(job),
                          [this](std::unique_ptr<Job> done) { onAnswered(std::move(done)); });
}

void Pipeline::onAnswered(std::unique_ptr<Job> job) {
  const bool ok = job->succeeded();
  commit(std::move(job), ok);
}

void Pipeline::failJob(std::unique_ptr<Job> job, llm::FailureKind kind, std::string message) {
  job->failure = llm::Failure{llm::FailureClass::kFailFile, kind, 0, std::move(message)};
  commit(std::move(job), /*success=*/false);
}

void Pipeline::commit(std::unique_ptr<Job> job, bool success) {
  const RecordContext ctx{config_.name, endpoint_name_, model_, deps_.clock.wallNow()};
  const config::SourceDisposal& rule = success ? config_.on_success : config_.on_failure;
  file::CommitItem item;
  item.source = job->path;
  item.identity = job->identity;
  item.owner = recordOwner(*job);
  item.disposal = disposalOf(rule.action);
  if (rule.action == config::SourceAction::kMove) {
    item.move_to = rule.dir / job->rel;
  }
  if (success) {
    item.record_path = config_.output_dir / (job->rel + ".json");
    item.record = renderResult(*job, ctx);
  } else {
    // Beside the moved source, or in the output folder when the source stays.
    const auto& dir = rule.action == config::SourceAction::kMove ? rule.dir : config_.output_dir;
    item.record_path = dir / (job->rel + ".error.json");
    item.record = renderErrorRecord(*job, ctx);
  }
  deps_.sink.add(std::move(job), std::move(item), ledgerRow(*job, item, ctx.now));
}

LedgerRow Pipeline::ledgerRow(const Job& job, const file::CommitItem& item, WallTime now) const {
  LedgerRow row;
  row.pipeline = config_.name;
  row.rel = job.rel;
  row.identity = job.identity;
  row.sha256 = job.stats ? job.stats->sha256 : std::string();
  row.state = job.succeeded() ? LedgerState::kDone : LedgerState::kFailed;
  row.attempts = job.attempts;
  row.last_error = job.failure
                       ? std::string(toString(job.failure->kind)) + ": " + job.failure->message
                       : std::string();
  row.result_path = item.record_path;  // the Sink puts the final name here
  row.source_moved_to = item.move_to;
  row.created_at = std::chrono::floor<std::chrono::seconds>(now);
  row.updated_at = row.created_at;
  return row;
}

void Pipeline::onRecordUnwritable(std::unique_ptr<Job> job, const file::CommitOutcome& outcome) {
  if (job->succeeded()) {
    // The answer cannot be stored where it belongs: fail the file, so its
    // error record (in the failed folder) says why.
    deps_.log.error("job.result_unwritable pipeline={} file={:?} error={:?}", config_.name,
                    job->rel, outcome.error);
    job->completion.reset();
    job->duplicate_of.reset();
    job->failure = llm::Failure{llm::FailureClass::kFailFile, llm::FailureKind::kOutput, 0,
                                "cannot write the result: " + outcome.error};
    commit(std::move(job), /*success=*/false);
    return;
  }
  // Not even the error record can be written: the source stays where it is,
  // remembered so rescans do not send it again until it changes.
  deps_.log.error("job.record_unwritable pipeline={} file={:?} kind={} error={:?} source=kept",
                  config_.name, job->rel, job->failure ? toString(job->failure->kind) : "",
                  outcome.error);
  const std::optional<Known> again = forget(job->path.string());
  finished_[job->rel] = {job->identity, false, {}};
  ++counters_.failed;
  ++counters_.failed_by_kind[std::string(toString(llm::FailureKind::kOutput))];
  rediscover(again);
}

void Pipeline::onCommitted(std::unique_ptr<Job> job, const file::CommitOutcome& outcome) {
  if (!outcome.record_written) {
    onRecordUnwritable(std::move(job), outcome);
    return;
  }
  const std::optional<Known> again = forget(job->path.string(), outcome.source_changed);
  if (outcome.source_changed) {
    deps_.log.info(
        "job.source_changed pipeline={} file={:?} action=left_in_place "
        "hint=\"saved again while in flight: the new version is a new job\"",
        config_.name, job->rel);
  }
  onRecordWritten(std::move(job), outcome);
  rediscover(again);
}

void Pipeline::onRecordWritten(std::unique_ptr<Job> job, const file::CommitOutcome& outcome) {
  if (chunk_running_) {
    committed_during_chunk_.insert(job->path.string());
  }
  if (job->recovered) {
    finished_.erase(job->rel);
    deps_.log.info("job.recovered pipeline={} file={:?} moved_to={:?}", config_.name, job->rel,
                   outcome.moved_to.string());
    return;
  }
  const bool ok = job->succeeded();
  const config::SourceDisposal& rule = ok ? config_.on_success : config_.on_failure;
  if (ok && config_.dedupe == config::Dedupe::kSha256 && !job->duplicate_of && job->stats) {
    done_by_sha_.emplace(job->stats->sha256, outcome.placed_at);
  }
  // Held in memory while its source is where it was and no ledger row can
  // say it is finished: without a ledger, or when the ledger commit or the
  // move failed (the source then stays, and is moved at the next scan).
  const bool row_says_so = deps_.lookup != nullptr && outcome.source_disposed;
  if (!row_says_so && (rule.action == config::SourceAction::kKeep || !outcome.source_disposed)) {
    finished_[job->rel] = {job->identity, ok, outcome.placed_at};
  } else {
    finished_.erase(job->rel);  // moved away, or its ledger row says it is finished
  }
  if (ok) {
    job->state = JobState::kDone;
    ++counters_.done;
    deps_.log.info("job.done pipeline={} file={:?} bytes={} attempts={} ms={}{}", config_.name,
                   job->rel, job->identity.size, job->attempts, job->latency.count(),
                   job->duplicate_of ? " duplicate=true" : "");
    return;
  }
  job->state = JobState::kFailed;
  ++counters_.failed;
  ++counters_.failed_by_kind[std::string(toString(job->failure->kind))];
  deps_.log.warn("job.failed pipeline={} file={:?} kind={} error={:?} moved_to={:?}", config_.name,
                 job->rel, toString(job->failure->kind), job->failure->message,
                 outcome.moved_to.string());
}

}  // namespace dropd::pipeline
