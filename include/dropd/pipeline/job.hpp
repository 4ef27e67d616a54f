#pragma once

// One file's trip through a pipeline (ARCHITECTURE.md, "One job's states").
// A Job is owned by exactly one stage at a time and handed on as a
// unique_ptr: Pipeline (settle, read) -> Dispatcher (send, retry) -> Sink
// (commit) -> Pipeline (forget). Loop thread only.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dropd/file/reader.hpp"
#include "dropd/file/stats.hpp"
#include "dropd/llm/response.hpp"
#include "dropd/uv/clock.hpp"

namespace dropd::pipeline {

enum class JobState {
  kQueued,   // a path in the backlog (settle time included)
  kReading,  // read + stats + request body on the threadpool
  kWaiting,  // body ready, waiting for a slot on its endpoint
  kSending,  // request in flight
  kBackoff,  // a retryable failure: waiting to send again
  kWriting,  // result or error record being committed
  kDone,
  kFailed,
};

[[nodiscard]] std::string_view toString(JobState state);

struct Job {
  std::size_t pipeline = 0;    // index in Config::pipelines
  std::string rel;             // relative to the watched root, '/'-separated
  std::filesystem::path path;  // absolute
  JobState state = JobState::kQueued;

  file::FileIdentity identity;       // as read
  std::optional<file::Stats> stats;  // once read
  // The request body, held from read to answer; shared with the HTTP client
  // so a retry sends the same bytes without a copy.
  std::shared_ptr<const std::string> body;

  std::uint32_t attempts = 0;            // requests sent so far
  MonoTime first_sent{};                 // for the endpoint-health rule in Dispatcher
  std::chrono::milliseconds latency{0};  // of the successful attempt
  std::optional<llm::Completion> completion;
  std::optional<llm::Failure> failure;  // why the job failed (kFailed)
  // Crash recovery: an earlier run committed the record (ledger) but had not
  // moved the source yet; only the move is left to do.
  bool recovered = false;
  // dedupe: sha256: the result of an earlier file with the same content;
  // this job then succeeds without a request.
  std::optional<std::filesystem::path> duplicate_of;

  [[nodiscard]] bool succeeded() const {
    return completion.has_value() || duplicate_of.has_value();
  }
};

}  // namespace dropd::pipeline
