#pragma once

// One configured pipeline: takes the finished files its Intake finds,
// reads them (with stats and the request body built on the threadpool),
// hands them to its endpoint's Dispatcher, and gives every outcome to the
// Sink as a result or error record. Loop thread only.
//
// It owns its Intake (discovery: roots, watching, scans, settle, the known
// set) and its FinishedIndex (finished files without a ledger row, dedupe
// hashes). A Job is built here when its read starts and owned by one stage
// at a time (Pipeline read -> Dispatcher -> Sink -> Pipeline), see job.hpp.
// Back-pressure is the endpoint's ReadBudget's: a read starts only when it
// has room, and the job's body counts against it until the Dispatcher hands
// the job back. The Sink hands each job back to this pipeline (onCommitted).
// pipeline.cpp: pump, commit, what a commit leaves; pipeline_read.cpp: the
// read on the pool and what its outcome means.

#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/llm/request_builder.hpp"
#include "dropd/pipeline/claims.hpp"
#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/pipeline/extract_tries.hpp"
#include "dropd/pipeline/extractor_pool.hpp"
#include "dropd/pipeline/finished_index.hpp"
#include "dropd/pipeline/intake.hpp"
#include "dropd/pipeline/job_events.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/pipeline/read_budget.hpp"
#include "dropd/pipeline/sink.hpp"

namespace dropd::pipeline {

struct PipelineCounters {
  std::uint64_t discovered = 0;
  std::uint64_t done = 0;
  std::uint64_t failed = 0;  // skipped included
  std::uint64_t bytes_read = 0;
  std::map<std::string, std::uint64_t> failed_by_kind;
};

class Pipeline {
 public:
  using Mode = Intake::Mode;
  struct Deps {
    uv_loop_t& loop;
    const Clock& clock;
    spdlog::logger& log;
    Dispatcher& dispatcher;
    Sink& sink;
    // The endpoint's: this pipeline reads a file only when it has room, and
    // is woken (pump()) when room frees.
    ReadBudget& budget;
    // The ledger (shared by every pipeline, owned by ops): its rows looked
    // up for each file a scan finds or a read is about to read, and the
    // extraction tries; nullptr without a ledger (tests, the bench build),
    // where finished files are remembered in memory and tries counted per
    // job.
    LedgerStore* ledger = nullptr;
    // Told of every job's change of state; may be null. Owned by ops, it
    // outlives the pipeline and its jobs.
    JobEvents* events = nullptr;
    // The dropd-extract program, for a pipeline with `extract:`.
    std::string extract_program;
    // Fleet mode (ledger.backend: postgres): each file is claimed before
    // its read, and skipped (looked at again later) while another instance
    // holds it. Null otherwise. Owned by ops, outlives the pipeline.
    Claims* claims = nullptr;
  };
  // How long helpers get to exit after their stdin is closed.
  static constexpr std::chrono::milliseconds kExtractorGrace{2000};

  Pipeline(Deps deps, const config::Pipeline& config, const config::Endpoint& endpoint,
           std::size_t index);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Each ledger row of this pipeline, before start(), for dedupe: the
  // content hashes of earlier answers. Whether a file was finished before
  // is looked up when it is found (Deps::lookup), so other pipelines need
  // not load their rows.
  void preloadRow(LedgerRow&& row);
  [[nodiscard]] bool needsRows() const { return config_.dedupe == config::Dedupe::kSha256; }

  void start(Mode mode) { intake_.start(mode); }
  // Stops discovery and forgets the backlog (paths only: a restart finds them).
  // Also shuts its extractor pool down: files being extracted are dropped.
  void stopDiscovery();
  // Closes the extractor pool's idle helpers (--once, all done). Idempotent.
  void closeExtractors();

  // Nothing scanning, queued, settling, or on its way.
  [[nodiscard]] bool idle() const { return intake_.idle(); }
  // Scans or reads still on the threadpool: the pipeline must outlive them.
  [[nodiscard]] bool poolWorkPending() const {
    return intake_.discoveryJobRunning() || reads_running_ > 0 || extract_works_ > 0 ||
           chunk_calls_ > 0 || (extractor_ && !extractor_->closed() && extractors_closing_);
  }
  // Every root is watched (daemon mode) and its first scan chunk is in: the
  // pipeline is up (READY=1). The walk of a large inbox goes on after that.
  [[nodiscard]] bool startupScanDone() const { return intake_.startupScanDone(); }
  [[nodiscard]] PipelineCounters counters() const;
  [[nodiscard]] std::size_t backlog() const { return intake_.backlog(); }
  [[nodiscard]] const std::string& name() const { return config_.name; }
  // Reads what the endpoint's ReadBudget has room for, then lets the
  // Intake scan on.
  void pump();

  // Tests drive time with a ManualClock: these do what the settle and
  // rescan timers do when they fire, without waiting for them.
  void releaseSettledForTest() { intake_.releaseSettledForTest(); }
  void rescanForTest() { intake_.rescanForTest(); }

 private:
  struct ReadDone;  // what a read brought back (pipeline_read.cpp)

  // pipeline_read.cpp
  void startRead(Intake::Pending pending);
  // The read proper, on the pool (after the ledger's word, if it was needed).
  void queueRead(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
                 ReadDone in);
  void readEnded(std::unique_ptr<Job> job, const Intake::Pending& pending, ReadDone out);
  // Before a read the scan could not vouch for: the ledger's row of the
  // file's identity now (lookUp), then the read or not (afterLookUp).
  void lookUp(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
              ReadDone read);
  void afterLookUp(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
                   ReadDone looked);
  // Fleet mode: the claim of the file's identity now and its row (one
  // batch of both for the files claimed together, Claims), then the read;
  // or the file is left to the instance that holds it.
  void claimFirst(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
                  ReadDone read);
  // Fleet mode: the job ends without a record, its claim is given up; or
  // the Sink's fenced record ended it (`recorded`), nothing to send.
  void endClaim(Job& job, bool recorded);
  void onClaimLost(std::unique_ptr<Job> job);
  // Both return true when the job went to the Dispatcher (its body is held
  // until it comes back), false when the read's body is gone.
  [[nodiscard]] bool onReadDone(std::unique_ptr<Job> job, const Intake::Pending& pending,
                                ReadDone out);
  [[nodiscard]] bool onRead(std::unique_ptr<Job> job, file::ReadOutcome outcome, bool to_extract);
  // dedupe: sha256 and an earlier file had the same content.
  [[nodiscard]] bool duplicate(const Job& job) const {
    return config_.dedupe == config::Dedupe::kSha256 && job.stats &&
           finished_.duplicateOf(job.stats->sha256).has_value();
  }
  // pipeline_extract.cpp: a file that is not text, through dropd-extract.
  // The job keeps its read's room in the ReadBudget until its text is sent
  // (or it fails). `last_error`: why this run's previous try ended.
  void startExtract(std::unique_ptr<Job> job, std::string last_error);
  void sendToExtractor(std::unique_ptr<Job> job);
  void onExtracted(std::unique_ptr<Job> job, ExtractOutcome outcome);
  void onDocument(std::unique_ptr<Job> job, extract::Document doc);
  void failExtract(std::unique_ptr<Job> job, llm::FailureKind kind, std::string message);
  void dropExtract(std::unique_ptr<Job> job);  // stopping: the try is undone
  [[nodiscard]] ExtractTries::Key triesKey(const Job& job) const;
  // pipeline_json.cpp: output.format json. False when the job went back
  // to the Dispatcher for a corrective follow-up (or was dropped while
  // draining): it still holds its body.
  [[nodiscard]] bool checkJsonAnswer(std::unique_ptr<Job>& job);
  void sendRepair(std::unique_ptr<Job> job, std::string body, const std::string& problem);
  // pipeline_chunks.cpp: chunking (docs/chunking.md). A job with `chunks`
  // goes through map and reduce requests one at a time, each answer kept
  // in the ledger; the last reduce is answered through onAnswered().
  void startChunks(std::unique_ptr<Job> job);
  void nextChunk(std::unique_ptr<Job> job);
  [[nodiscard]] bool reuseChunk(Job& job);
  void sendChunk(std::unique_ptr<Job> job, bool final);
  void onChunkAnswered(std::unique_ptr<Job> job);
  // Keeps the answer in the ledger. True when the job was parked to wait
  // for the write before (it goes on when that write is done).
  [[nodiscard]] bool writeChunk(std::unique_ptr<Job>& job, ChunkAnswer answer);
  void endChunks(const Job& job);  // its record is committed: the answers go
  [[nodiscard]] ChunkKey chunkKey(const Job& job) const;
  // pipeline.cpp
  void onAnswered(std::unique_ptr<Job> job);
  void failJob(std::unique_ptr<Job> job, llm::FailureKind kind, std::string message);
  void commit(std::unique_ptr<Job> job, bool success);
  // The Sink hands the job back: its record is committed, or not written.
  void onCommitted(std::unique_ptr<Job> job, const file::CommitOutcome& outcome);
  [[nodiscard]] Sink::DoneFn committedFn();
  // A source finished before whose disposal was cut off (Intake::Deps::recover).
  void recover(const Intake::Pending& where, const Finished& finished);
  void onRecordUnwritable(std::unique_ptr<Job> job, const file::CommitOutcome& outcome);
  void onRecordWritten(std::unique_ptr<Job> job, const file::CommitOutcome& outcome);
  [[nodiscard]] std::unique_ptr<Job> newJob(const Intake::Pending& pending) const;
  [[nodiscard]] LedgerRow ledgerRow(const Job& job, const file::CommitItem& item,
                                    WallTime now) const;

  Deps deps_;
  const config::Pipeline config_;
  const std::string endpoint_name_;
  const std::string model_;
  const std::string prompt_version_;  // written into each result
  const std::size_t index_;
  std::shared_ptr<const llm::RequestBuilder> builder_;  // shared with read work on the pool
  // chunking: the map requests, the reduce rounds, and the last reduce
  // (with output.format json, the only one asked for JSON). Null without.
  std::unique_ptr<const llm::RequestBuilder> map_builder_;
  std::unique_ptr<const llm::RequestBuilder> reduce_builder_;
  std::unique_ptr<const llm::RequestBuilder> final_builder_;
  // Chunk answers' ledger calls not yet answered: the pipeline outlives them.
  std::size_t chunk_calls_ = 0;
  FinishedIndex finished_;
  Intake intake_;  // after finished_ and config_, which it uses
  std::size_t reads_running_ = 0;
  std::unique_ptr<ExtractorPool> extractor_;  // with `extract:` only
  std::size_t extract_works_ = 0;             // tries and bodies on the pool
  bool extractors_closing_ = false;
  PipelineCounters counters_;  // `discovered` is the Intake's
};

}  // namespace dropd::pipeline
