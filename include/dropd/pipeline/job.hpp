#pragma once

// One file's trip through a pipeline (docs/pipeline.md, "A job's states").
// A Job is owned by exactly one stage at a time and handed on as a
// unique_ptr: Pipeline (read) -> Dispatcher (send, retry) -> Sink
// (commit) -> Pipeline (forget). Before its read starts a path's state is
// kept by the Intake's known entry; from then on by its Job. Every change
// of state goes through Job::moveTo() (or, before a Job exists,
// JobEvents::move()), which checks it against the table in job_events.cpp
// and tells the JobEvents' listeners. Loop thread only.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/base/clock.hpp"
#include "dropd/file/reader.hpp"
#include "dropd/file/stats.hpp"
#include "dropd/llm/response.hpp"
#include "dropd/pipeline/chunk_run.hpp"

namespace dropd::pipeline {

class JobEvents;

enum class JobState {
  kDiscovered,  // found by a scan or an event (or found finished before: recovery)
  kSettling,    // waiting for the file to be quiet (settle, a polled file's second look)
  kQueued,      // a path in the backlog
  kReading,     // read + stats + request body on the threadpool
  kExtracting,  // not text: a dropd-extract helper is getting its text (docs/extract.md)
  kWaiting,     // body ready, waiting for a slot on its endpoint
  kSending,     // request in flight
  kBackoff,     // a retryable failure: waiting to send again
  kWriting,     // result or error record being committed (or a recovery's source moved)
  kDone,        // result written
  kFailed,      // error record written
  kSkipped,     // error record of kind "skipped" written (too large, binary, not regular)
  // Left without an outcome: vanished, finished before (unchanged), or
  // dropped when discovery or sending stopped. Nothing was written.
  kForgotten,
};

[[nodiscard]] std::string_view toString(JobState state);
[[nodiscard]] bool isTerminal(JobState state);

// What a dropd-extract helper said of a file (Job::extracted). At namespace
// scope, not nested in Job: clang cannot default-construct a nested class
// with member initializers inside std::optional before Job is complete.
struct JobExtracted {
  std::string mime;
  std::string method;  // empty when the helper failed the file
  std::string title;
  std::uint32_t pages = 0;
  std::uint64_t chars = 0;
  bool truncated = false;
  bool ocr = false;
};

// The text of the request in flight when it is not the file's (a chunk's,
// or a reduce's answers): what the send estimate counts (Job::request_content).
struct JobRequestContent {
  std::uint64_t tokens = 0;
  std::uint64_t bytes = 0;
};

struct Job {
  Job() = default;
  // A Job gone before a terminal state (dropped when sending stopped, or
  // with the Sink or Dispatcher at shutdown) is kForgotten: listeners hear it.
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // The one way to change `state`: checks the transition (DROPD_CHECK on
  // one the table forbids) and tells `events`' listeners (if set).
  void moveTo(JobState to, std::string_view reason);
  // The path's state goes back to the Intake's known entry (the read found
  // the file still being written): this Job is destroyed without an event.
  void handBack() { handed_back_ = true; }

  std::size_t pipeline = 0;   // index in Config::pipelines
  std::string pipeline_name;  // for JobEvents' listeners
  // The record rel: the root's record prefix + the path below the root,
  // '/'-separated (the ledger's key and the name of its records).
  std::string rel;
  std::filesystem::path path;  // absolute
  JobState state = JobState::kDiscovered;
  JobEvents* events = nullptr;  // owned by ops; outlives every Job

  file::FileIdentity identity;       // as read
  std::optional<file::Stats> stats;  // once read
  // The request body, held from read to answer; shared with the HTTP client
  // so a retry sends the same bytes without a copy.
  std::shared_ptr<const std::string> body;

  // Set once a dropd-extract helper answered for this file (not for text
  // files): what was extracted, for the record's source.type and extract.
  using Extracted = JobExtracted;
  std::optional<Extracted> extracted;
  bool extract_tried = false;       // a try was counted in the ledger (cleared at its end)
  std::uint32_t extract_tries = 0;  // tries counted in memory (no ledger)

  std::uint32_t attempts = 0;            // requests sent so far
  MonoTime first_sent{};                 // for the endpoint-health rule in Dispatcher
  std::chrono::milliseconds latency{0};  // of the successful attempt
  std::optional<llm::Completion> completion;
  std::optional<llm::Failure> failure;  // why the job failed (kFailed)
  // Crash recovery: an earlier run committed the record (ledger) but had not
  // moved the source yet; only the move is left to do.
  bool recovered = false;
  bool recovered_failure = false;  // ...of a failed job (its error record is in place)
  // dedupe: sha256: the result of an earlier file with the same content;
  // this job then succeeds without a request.
  std::optional<std::filesystem::path> duplicate_of;
  // Fleet mode (claims.hpp): this instance claimed the file, as it was
  // when claimed, before reading it; the claim ends with its record or is
  // given up when the job ends without one. `claim_lost`: the Sink's fenced
  // record refused the job (another instance holds the file now), so
  // nothing of it was recorded and its source was not touched.
  bool claimed = false;
  file::FileIdentity claimed_as;
  bool claim_lost = false;

  // output.format json (pipeline_json.cpp). The body as sent, kept for a
  // corrective follow-up (the Dispatcher drops `body` when it hands the
  // job back); the answer's JSON value once it passed; and what the
  // answers that needed a repair cost.
  std::shared_ptr<const std::string> sent_body;
  std::optional<nlohmann::json> json;
  std::uint32_t repairs = 0;           // corrective follow-ups sent
  std::uint32_t earlier_attempts = 0;  // requests of the answers repaired
  llm::Usage earlier_usage;            // their usage

  // chunking (pipeline_chunks.cpp, docs/chunking.md): a document over
  // chunking.max_tokens is sent as map and reduce requests; `body` is then
  // the request in flight, and `request_content` its text's estimated
  // tokens and bytes (the send estimate's content, instead of the file's).
  std::unique_ptr<ChunkRun> chunks;
  std::optional<JobRequestContent> request_content;

  // Every request this job sent: its repairs' too.
  [[nodiscard]] std::uint32_t requestsSent() const { return earlier_attempts + attempts; }

  [[nodiscard]] bool succeeded() const {
    return completion.has_value() || duplicate_of.has_value();
  }

 private:
  bool handed_back_ = false;
};

}  // namespace dropd::pipeline
