// Pipeline: pump, commit, and what a commit leaves behind.
#include "dropd/pipeline/pipeline.hpp"

#include "dropd/pipeline/prompt_version.hpp"
#include "dropd/pipeline/records.hpp"
#include "dropd/uv/check.hpp"

namespace dropd::pipeline {
namespace {

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

// What happens to a job's source under `rule`; the caller adds the record.
// The one place a source's disposal is chosen, for commits and recoveries.
file::CommitItem commitItemFor(const Job& job, const config::SourceDisposal& rule) {
  file::CommitItem item;
  item.source = job.path;
  item.identity = job.identity;
  item.disposal = disposalOf(rule.action);
  if (rule.action == config::SourceAction::kMove) {
    item.move_to = rule.dir / job.rel;
  }
  return item;
}

}  // namespace

Pipeline::Pipeline(Deps deps, const config::Pipeline& config, const config::Endpoint& endpoint,
                   std::size_t index)
    : deps_(deps),
      config_(config),
      endpoint_name_(endpoint.name),
      model_(endpoint.model),
      prompt_version_(promptVersion(config, endpoint)),
      index_(index),
      builder_(std::make_shared<const llm::RequestBuilder>(endpoint, config.prompt,
                                                           llm::jsonOutputOf(config, endpoint))),
      intake_({deps.loop, deps.clock, deps.log, finished_, deps.ledger, [this] { pump(); },
               [this](const Intake::Pending& where, const Finished& finished) {
                 recover(where, finished);
               },
               deps.events,
               deps.claims != nullptr ? std::hash<std::string>{}(deps.claims->holder()) | 1 : 0},
              config_) {
  if (config_.chunking) {
    const config::Chunking& c = *config_.chunking;
    map_builder_ = std::make_unique<const llm::RequestBuilder>(endpoint, c.map);
    reduce_builder_ = std::make_unique<const llm::RequestBuilder>(endpoint, c.reduce);
    final_builder_ = std::make_unique<const llm::RequestBuilder>(
        endpoint, c.reduce, llm::jsonOutputOf(config, endpoint));
  }
  deps_.budget.addReader([this] { pump(); });
  deps_.dispatcher.setPipelineBudget(index, config.name, config.budget);
  if (config_.extract) {
    const config::Extract& e = *config_.extract;
    const auto secs = std::chrono::ceil<std::chrono::seconds>(e.timeout).count();
    extractor_ = std::make_unique<ExtractorPool>(
        deps_.loop, deps_.log,
        ExtractorPoolConfig{deps_.extract_program, e.helpers, e.timeout, e.memory_bytes,
                            static_cast<std::uint64_t>(secs), config_.name});
  }
}

Pipeline::~Pipeline() { intake_.stop(); }

void Pipeline::stopDiscovery() {
  intake_.stop();
  closeExtractors();
}

void Pipeline::closeExtractors() {
  if (extractor_ && !extractors_closing_) {
    extractors_closing_ = true;
    extractor_->shutdown(kExtractorGrace);
  }
}

PipelineCounters Pipeline::counters() const {
  PipelineCounters counters = counters_;
  counters.discovered = intake_.discovered();
  return counters;
}

void Pipeline::preloadRow(LedgerRow&& row) {
  // Only results made under the prompt version the config gives now: an
  // answer to another prompt is no answer for this content.
  if (needsRows() && row.state == LedgerState::kDone && !row.sha256.empty() &&
      row.prompt_version == prompt_version_) {
    finished_.addHash(row.sha256, row.result_path);  // rows come oldest first
  }
}

void Pipeline::pump() {
  while (intake_.hasNext() && deps_.budget.room()) {
    startRead(intake_.next());
  }
  intake_.scanMore();  // the backlog may have drained below its low mark
}

std::unique_ptr<Job> Pipeline::newJob(const Intake::Pending& pending) const {
  auto job = std::make_unique<Job>();
  job->pipeline = index_;
  job->pipeline_name = config_.name;
  job->events = deps_.events;
  job->rel = intake_.recordRel(pending);
  job->path = intake_.pathOf(pending);
  return job;
}

void Pipeline::recover(const Intake::Pending& where, const Finished& finished) {
  auto job = newJob(where);
  job->identity = finished.identity;
  job->recovered = true;
  job->recovered_failure = !finished.done;
  file::CommitItem item =
      commitItemFor(*job, finished.done ? config_.on_success : config_.on_failure);
  item.record_path = finished.record_path;
  item.owner = job->rel;
  item.record_written_before = true;
  deps_.sink.add(std::move(job), std::move(item), std::nullopt, committedFn());
}

void Pipeline::onAnswered(std::unique_ptr<Job> job) {
  if (config_.output_format == config::OutputFormat::kJson && job->completion &&
      !checkJsonAnswer(job)) {
    return;  // sent again with a correction (or dropped: draining)
  }
  job->sent_body.reset();
  if (job->failure && job->failure->kind == llm::FailureKind::kContextLength) {
    job->failure->message += config_.chunking
                                 ? " (lower chunking.max_tokens, or the endpoint's max_tokens)"
                                 : " (the document does not fit the model's context: set "
                                   "chunking, docs/chunking.md)";
  }
  const bool ok = job->succeeded();
  commit(std::move(job), ok);
  deps_.budget.release();  // its body is gone (Dispatcher::finish)
}

Sink::DoneFn Pipeline::committedFn() {
  return [this](std::unique_ptr<Job> job, const file::CommitOutcome& outcome) {
    onCommitted(std::move(job), outcome);
  };
}

void Pipeline::failJob(std::unique_ptr<Job> job, llm::FailureKind kind, std::string message) {
  job->failure = llm::Failure{llm::FailureClass::kFailFile, kind, 0, std::move(message)};
  commit(std::move(job), /*success=*/false);
}

void Pipeline::commit(std::unique_ptr<Job> job, bool success) {
  const RecordContext ctx{config_.name, endpoint_name_, model_, deps_.clock.wallNow(),
                          prompt_version_};
  const config::SourceDisposal& rule = success ? config_.on_success : config_.on_failure;
  file::CommitItem item = commitItemFor(*job, rule);
  item.owner = recordOwner(*job);
  if (success) {
    item.record_path = config_.output_dir / (job->rel + ".json");
    item.record = renderResult(*job, ctx);
  } else {
    // Beside the moved source, or in the output folder when the source stays.
    const auto& dir = rule.action == config::SourceAction::kMove ? rule.dir : config_.output_dir;
    item.record_path = dir / (job->rel + ".error.json");
    item.record = renderErrorRecord(*job, ctx);
  }
  LedgerRow row = ledgerRow(*job, item, ctx.now);
  deps_.sink.add(std::move(job), std::move(item), std::move(row), committedFn());
}

LedgerRow Pipeline::ledgerRow(const Job& job, const file::CommitItem& item, WallTime now) const {
  LedgerRow row;
  row.pipeline = config_.name;
  row.rel = job.rel;
  row.identity = job.identity;
  row.sha256 = job.stats ? job.stats->sha256 : std::string();
  row.state = job.succeeded() ? LedgerState::kDone : LedgerState::kFailed;
  row.prompt_version = job.succeeded() ? prompt_version_ : std::string();
  row.attempts = job.requestsSent();
  row.last_error = job.failure
                       ? std::string(toString(job.failure->kind)) + ": " + job.failure->message
                       : std::string();
  row.result_path = item.record_path;  // the Sink puts the final name here
  row.source_moved_to = item.move_to;
  row.created_at = std::chrono::floor<std::chrono::seconds>(now);
  row.updated_at = row.created_at;
  row.extracted = job.extract_tried;  // its extraction tries end with this row
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
  endClaim(*job, /*recorded=*/false);
  job->moveTo(JobState::kFailed, "record unwritable");
  finished_.remember(job->rel, {job->identity, false, {}});
  ++counters_.failed;
  ++counters_.failed_by_kind[std::string(toString(llm::FailureKind::kOutput))];
  intake_.jobOver(job->rel);
}

void Pipeline::endClaim(Job& job, bool recorded) {
  if (!job.claimed || deps_.claims == nullptr) {
    return;
  }
  job.claimed = false;
  const Claims::Key key{config_.name, job.rel, job.claimed_as};
  if (recorded) {
    deps_.claims->recorded(key);
  } else {
    deps_.claims->release(key);
  }
}

void Pipeline::onClaimLost(std::unique_ptr<Job> job) {
  endClaim(*job, /*recorded=*/true);  // the ledger has no claim of ours left
  deps_.log.warn(
      "job.claim_lost pipeline={} file={:?} hint=\"another instance holds the file now: its "
      "result is the one recorded, the source is left to it\"",
      config_.name, job->rel);
  const std::string rel = job->rel;
  job->moveTo(JobState::kForgotten, "claim lost to another instance");
  job.reset();
  intake_.jobOver(rel);
}

void Pipeline::onCommitted(std::unique_ptr<Job> job, const file::CommitOutcome& outcome) {
  if (job->claim_lost) {
    onClaimLost(std::move(job));
    return;
  }
  if (!outcome.record_written) {
    onRecordUnwritable(std::move(job), outcome);
    return;
  }
  const std::string rel = job->rel;
  const bool changed = outcome.source_changed;
  if (changed) {
    deps_.log.info(
        "job.source_changed pipeline={} file={:?} action=left_in_place "
        "hint=\"saved again while in flight: the new version is a new job\"",
        config_.name, job->rel);
  }
  // The fenced record gave the claim up with the row; if the row or the
  // move failed, the claim is given up so the file is free again.
  endClaim(*job, outcome.source_disposed);
  onRecordWritten(std::move(job), outcome);
  intake_.jobOver(rel, changed);  // last: it may start the next read at once
}

void Pipeline::onRecordWritten(std::unique_ptr<Job> job, const file::CommitOutcome& outcome) {
  finished_.committed(job->rel);
  if (job->recovered) {
    finished_.forget(job->rel);
    job->moveTo(job->recovered_failure ? JobState::kFailed : JobState::kDone, "recovered");
    deps_.log.info("job.recovered pipeline={} file={:?} moved_to={:?}", config_.name, job->rel,
                   outcome.moved_to.string());
    return;
  }
  const bool ok = job->succeeded();
  const config::SourceDisposal& rule = ok ? config_.on_success : config_.on_failure;
  if (job->chunks) {
    endChunks(*job);
  }
  if (ok && config_.dedupe == config::Dedupe::kSha256 && !job->duplicate_of && job->stats) {
    finished_.addHash(job->stats->sha256, outcome.placed_at);
  }
  // Held in memory while its source is where it was and no ledger row can
  // say it is finished: without a ledger, or when the ledger commit or the
  // move failed (the source then stays, and is moved at the next scan).
  const bool row_says_so = deps_.ledger != nullptr && outcome.source_disposed;
  if (!row_says_so && (rule.action == config::SourceAction::kKeep || !outcome.source_disposed)) {
    finished_.remember(job->rel, {job->identity, ok, outcome.placed_at});
  } else {
    finished_.forget(job->rel);  // moved away, or its ledger row says it is finished
  }
  if (ok) {
    job->moveTo(JobState::kDone, "result written");
    ++counters_.done;
    deps_.log.info("job.done pipeline={} file={:?} bytes={} attempts={} ms={}{}", config_.name,
                   job->rel, job->identity.size, job->requestsSent(), job->latency.count(),
                   job->duplicate_of ? " duplicate=true" : "");
    return;
  }
  const bool skipped = job->failure->kind == llm::FailureKind::kSkipped;
  job->moveTo(skipped ? JobState::kSkipped : JobState::kFailed, "error record written");
  ++counters_.failed;
  ++counters_.failed_by_kind[std::string(toString(job->failure->kind))];
  deps_.log.warn("job.failed pipeline={} file={:?} kind={} error={:?} moved_to={:?}", config_.name,
                 job->rel, toString(job->failure->kind), job->failure->message,
                 outcome.moved_to.string());
}

}  // namespace dropd::pipeline
