#include "dropd/ops/status_model.hpp"

#include <array>
#include <string>

#include "ops/histogram.hpp"

namespace dropd::ops {
namespace {

using pipeline::JobState;

constexpr std::array<double, 12> kRequestBuckets{0.1, 0.25, 0.5, 1,   2.5, 5,
                                                 10,  30,   60,  120, 300, 600};
constexpr std::array<double, 12> kCommitBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,   0.25,   0.5,   1,    2.5,   5};

std::size_t indexOf(JobState state) { return static_cast<std::size_t>(state); }

std::int64_t secondsSinceEpoch(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::span<const double> requestDurationBuckets() { return kRequestBuckets; }
std::span<const double> ledgerCommitBuckets() { return kCommitBuckets; }

std::string attemptCode(const llm::Attempt& attempt) {
  if (attempt.result) {
    return "200";  // the client hands over 2xx answers only as completions
  }
  const llm::Failure& f = attempt.result.error();
  if (f.http_status != 0) {
    return std::to_string(f.http_status);
  }
  if (f.kind == llm::FailureKind::kTimeout) {
    return "timeout";
  }
  // The transport's message names the step that failed (net/http_client.cpp).
  if (f.message.find("connect") != std::string::npos) {
    return "connect";
  }
  if (f.message.find("TLS") != std::string::npos || f.message.find("tls") != std::string::npos) {
    return "tls";
  }
  return "transport";
}

EndpointTally::EndpointTally()
    : duration(std::make_unique<Histogram>(kRequestBuckets)),
      ttft(std::make_unique<Histogram>(kRequestBuckets)) {}
EndpointTally::EndpointTally(EndpointTally&&) noexcept = default;
EndpointTally::~EndpointTally() = default;

StatusModel::StatusModel(const Clock& clock)
    : clock_(clock), ledger_commits_(std::make_unique<Histogram>(kCommitBuckets)) {}

StatusModel::~StatusModel() = default;

PipelineTally& StatusModel::tally(std::string_view pipeline) {
  if (const auto it = pipelines_.find(pipeline); it != pipelines_.end()) {
    return it->second;
  }
  return pipelines_.emplace(std::string(pipeline), PipelineTally{}).first->second;
}

EndpointTally& StatusModel::endpointTally(std::string_view endpoint) {
  if (const auto it = endpoints_.find(endpoint); it != endpoints_.end()) {
    return it->second;
  }
  return endpoints_.emplace(std::string(endpoint), EndpointTally{}).first->second;
}

const PipelineTally* StatusModel::pipeline(std::string_view name) const {
  const auto it = pipelines_.find(name);
  return it == pipelines_.end() ? nullptr : &it->second;
}

const EndpointTally* StatusModel::endpoint(std::string_view name) const {
  const auto it = endpoints_.find(name);
  return it == endpoints_.end() ? nullptr : &it->second;
}

void StatusModel::onJobEvent(const pipeline::JobEvent& event) {
  PipelineTally& t = tally(event.pipeline);
  auto it = t.jobs.find(event.rel);
  if (it == t.jobs.end()) {
    // A path's first change leaves kDiscovered, the state it is born in.
    if (event.from == JobState::kDiscovered) {
      ++t.discovered;
    }
    it = t.jobs.emplace(std::string(event.rel), LiveJob{}).first;
  } else {
    --t.in_state[indexOf(it->second.state)];
  }
  if (event.from == JobState::kReading && event.job != nullptr && event.job->stats) {
    t.bytes_read += event.job->stats->bytes;
  }
  if (pipeline::isTerminal(event.to)) {
    onEnded(t, event);
    t.jobs.erase(it);
    return;
  }
  LiveJob& job = it->second;
  job.state = event.to;
  job.since = event.at;
  job.since_mono = clock_.now();
  if (event.job != nullptr) {
    job.attempts = event.job->attempts;
  }
  ++t.in_state[indexOf(event.to)];
}

void StatusModel::onEnded(PipelineTally& t, const pipeline::JobEvent& event) {
  const pipeline::Job* job = event.job;
  switch (event.to) {
    case JobState::kDone:
      ++t.done;
      noteEnded(t);
      return;
    case JobState::kFailed:
    case JobState::kSkipped:
      break;
    default:
      return;  // forgotten: nothing was written
  }
  ++(event.to == JobState::kSkipped ? t.skipped : t.failed);
  noteEnded(t);
  const std::string kind = job != nullptr && job->failure
                               ? std::string(llm::toString(job->failure->kind))
                               : std::string(event.to == JobState::kSkipped ? "skipped" : "read");
  ++t.failed_by_kind[kind];
  failures_.push_back({std::string(event.pipeline), std::string(event.rel), kind,
                       job != nullptr && job->failure ? job->failure->message : "", event.at});
  if (failures_.size() > kRecentFailures) {
    failures_.pop_front();
  }
}

void StatusModel::noteEnded(PipelineTally& t) {
  const std::int64_t second = secondsSinceEpoch(clock_.now());
  const std::size_t slot = static_cast<std::size_t>(second % 60);
  if (t.second_of[slot] != second) {
    t.second_of[slot] = second;
    t.ended_per_second[slot] = 0;
  }
  ++t.ended_per_second[slot];
}

double StatusModel::filesPerSecond(const PipelineTally& tally) const {
  const std::int64_t now = secondsSinceEpoch(clock_.now());
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < tally.ended_per_second.size(); ++i) {
    if (tally.second_of[i] > now - 60 && tally.second_of[i] <= now) {
      sum += tally.ended_per_second[i];
    }
  }
  return static_cast<double>(sum) / 60.0;
}

void StatusModel::onAttempt(std::string_view endpoint, const pipeline::Job& job,
                            const llm::Attempt& attempt) {
  EndpointTally& e = endpointTally(endpoint);
  ++e.requests_by_code[attemptCode(attempt)];
  e.duration->observe(std::chrono::duration<double>(attempt.latency).count());
  PipelineTally& t = tally(job.pipeline_name);
  const auto live = t.jobs.find(job.rel);
  if (attempt.result && attempt.result->ttft) {
    e.ttft->observe(std::chrono::duration<double>(*attempt.result->ttft).count());
  }
  if (attempt.result) {
    e.prompt_tokens += attempt.result->usage.prompt_tokens;
    e.completion_tokens += attempt.result->usage.completion_tokens;
    return;
  }
  const llm::Failure& f = attempt.result.error();
  if (f.cls == llm::FailureClass::kRetry) {
    ++e.retries_by_reason[std::string(llm::toString(f.kind))];
  }
  if (live != t.jobs.end()) {
    live->second.last_error = f.message;
    live->second.attempts = job.attempts;
  }
}

void StatusModel::onLedgerCommit(std::chrono::nanoseconds took) {
  ledger_commits_->observe(std::chrono::duration<double>(took).count());
}

void StatusModel::addThrottleWaitBefore(std::string_view endpoint, MonoTime::duration wait) {
  endpointTally(endpoint).throttle_wait_before += wait;
}

}  // namespace dropd::ops
