#pragma once

// What the status server knows that the running parts do not keep: counters
// since the process started (kept across reloads, when the pipelines and
// dispatchers are rebuilt), each live job's state, since when and its last
// error, the last failures, LLM request counts and latencies. Fed by
// JobEvents' listener (onJobEvent), the Dispatchers' attempt observers
// (onAttempt) and the Sink's commit timings (onLedgerCommit).
//
// Every feed is O(1) (a counter, a map keyed by rel, a fixed ring) and
// builds no JSON: that happens only when somebody asks (status_render.hpp).
// Memory is bounded by the jobs alive (an entry goes when its job ends;
// finished files are answered from the ledger) and the fixed rings. Loop
// thread only; `clock` must outlive it.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dropd/base/clock.hpp"
#include "dropd/llm/attempt.hpp"
#include "dropd/pipeline/job.hpp"
#include "dropd/pipeline/job_events.hpp"

namespace dropd::ops {

struct Histogram;

// Heterogeneous lookup: the events carry string_views.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// One job that has not ended yet.
struct LiveJob {
  pipeline::JobState state = pipeline::JobState::kDiscovered;
  WallTime since{};  // of `state`
  MonoTime since_mono{};
  std::uint32_t attempts = 0;
  std::string last_error;  // of its last failed attempt; empty if none
};

inline constexpr std::size_t kJobStates =
    static_cast<std::size_t>(pipeline::JobState::kForgotten) + 1;

struct PipelineTally {
  std::array<std::int64_t, kJobStates> in_state{};  // live jobs per state
  std::uint64_t discovered = 0;
  std::uint64_t done = 0;
  std::uint64_t failed = 0;
  std::uint64_t skipped = 0;
  std::uint64_t bytes_read = 0;
  std::map<std::string, std::uint64_t> failed_by_kind;  // skipped included
  StringMap<LiveJob> jobs;                              // by rel
  // Jobs ended (done or failed) per second of the last minute.
  std::array<std::uint32_t, 60> ended_per_second{};
  std::array<std::int64_t, 60> second_of{};
};

struct EndpointTally {
  EndpointTally();
  EndpointTally(EndpointTally&&) noexcept;
  ~EndpointTally();
  std::map<std::string, std::uint64_t> requests_by_code;   // "200", "500", "timeout", ...
  std::map<std::string, std::uint64_t> retries_by_reason;  // failure kind of a retried attempt
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  // Throttle waits of Dispatchers a reload took down (theirs restart at 0).
  MonoTime::duration throttle_wait_before{0};
  std::unique_ptr<Histogram> duration;  // seconds per request
  std::unique_ptr<Histogram> ttft;      // seconds to the first content delta, streamed answers
};

struct FailureNote {
  std::string pipeline;
  std::string path;
  std::string kind;
  std::string message;
  WallTime at{};
};

class StatusModel {
 public:
  static constexpr std::size_t kRecentFailures = 20;

  explicit StatusModel(const Clock& clock);
  ~StatusModel();
  StatusModel(const StatusModel&) = delete;
  StatusModel& operator=(const StatusModel&) = delete;

  void onJobEvent(const pipeline::JobEvent& event);
  void onAttempt(std::string_view endpoint, const pipeline::Job& job, const llm::Attempt& attempt);
  void onLedgerCommit(std::chrono::nanoseconds took);
  void addThrottleWaitBefore(std::string_view endpoint, MonoTime::duration wait);

  [[nodiscard]] const std::map<std::string, PipelineTally, std::less<>>& pipelines() const {
    return pipelines_;
  }
  [[nodiscard]] const std::map<std::string, EndpointTally, std::less<>>& endpoints() const {
    return endpoints_;
  }
  [[nodiscard]] const PipelineTally* pipeline(std::string_view name) const;
  [[nodiscard]] const EndpointTally* endpoint(std::string_view name) const;
  [[nodiscard]] const std::deque<FailureNote>& recentFailures() const { return failures_; }
  [[nodiscard]] const Histogram& ledgerCommits() const { return *ledger_commits_; }
  // Done + failed per second over the last 60 s.
  [[nodiscard]] double filesPerSecond(const PipelineTally& tally) const;

 private:
  PipelineTally& tally(std::string_view pipeline);
  EndpointTally& endpointTally(std::string_view endpoint);
  void onEnded(PipelineTally& t, const pipeline::JobEvent& event);
  void noteEnded(PipelineTally& t);

  const Clock& clock_;
  std::map<std::string, PipelineTally, std::less<>> pipelines_;
  std::map<std::string, EndpointTally, std::less<>> endpoints_;
  std::deque<FailureNote> failures_;
  std::unique_ptr<Histogram> ledger_commits_;
};

// The metrics' bucket bounds, in seconds.
[[nodiscard]] std::span<const double> requestDurationBuckets();
[[nodiscard]] std::span<const double> ledgerCommitBuckets();
// The `code` label of an attempt: its HTTP status, else timeout, connect,
// tls or transport.
[[nodiscard]] std::string attemptCode(const llm::Attempt& attempt);

}  // namespace dropd::ops
