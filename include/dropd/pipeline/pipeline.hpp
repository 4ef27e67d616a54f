#pragma once

// One configured pipeline: finds finished files in its watched roots,
// reads them (with stats and the request body built on the threadpool),
// hands them to its endpoint's Dispatcher, and gives every outcome to the
// Sink as a result or error record. Loop thread only.
//
// Discovery (pipeline_intake.cpp): a full scan of each root at start, then
// in daemon mode inotify events and a rescan every rescan_interval. A path
// is known from discovery until its record is committed, so events and
// scans never queue it twice. The backlog holds paths only.
//
// Watching (pipeline_watch.cpp): inotify, except where it cannot see
// (roots on network or FUSE file systems, such mounts below a local root),
// which are walked every kPollInterval; so is a root that is missing or
// was lost, until it can be watched again.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/config/config.hpp"
#include "dropd/llm/request_builder.hpp"
#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/pipeline/ledger_lookup.hpp"
#include "dropd/pipeline/sink.hpp"
#include "dropd/uv/clock.hpp"
#include "dropd/uv/timer.hpp"
#include "dropd/watch/inotify_watcher.hpp"
#include "dropd/watch/path_filter.hpp"
#include "dropd/watch/scanner.hpp"
#include "dropd/watch/watch_plan.hpp"

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
  enum class Mode { kOnce, kDaemon };
  struct Deps {
    uv_loop_t& loop;
    const Clock& clock;
    spdlog::logger& log;
    Dispatcher& dispatcher;
    Sink& sink;
    // The ledger's rows, looked up on the pool for each file a scan finds
    // or a read is about to read; nullptr without a ledger (tests, the
    // bench build), where finished files are remembered in memory.
    LedgerLookup* lookup = nullptr;
  };

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

  // Starts the scans (and, in daemon mode, watching). Errors on a root are
  // logged; the other roots go on.
  void start(Mode mode);
  // Stops discovery and forgets the backlog (paths only: a restart finds them).
  void stopDiscovery();

  // The Sink calls this when the job's record is committed.
  void onCommitted(std::unique_ptr<Job> job, const file::CommitOutcome& outcome);

  // Nothing scanning, queued, settling, or on its way.
  [[nodiscard]] bool idle() const;
  // Scans or reads still on the threadpool: the pipeline must outlive them.
  [[nodiscard]] bool poolWorkPending() const { return chunk_running_ || reads_running_ > 0; }
  // Every root is watched (daemon mode) and its first scan chunk is in: the
  // pipeline is up (READY=1). The walk of a large inbox goes on after that.
  [[nodiscard]] bool startupScanDone() const { return startup_scans_left_ == 0; }
  [[nodiscard]] const PipelineCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t backlog() const { return backlog_.size() + deferred_.size(); }
  [[nodiscard]] const std::string& name() const { return config_.name; }
  void pump();

  // Tests drive time with a ManualClock: these do what the settle and
  // rescan timers do when they fire, without waiting for them.
  void releaseSettledForTest() { onDeferredDue(); }
  void rescanForTest() { rescanAll(); }

 private:
  struct Root {
    std::filesystem::path path;
    std::string record_prefix;  // "" for one root, else "<root name>/" (results must not collide)
    std::unique_ptr<watch::InotifyWatcher> watcher;
    bool lost = false;    // the root folder went away: watch it afresh (poll timer)
    bool polled = false;  // on a network or FUSE file system: scanned whole every kPollInterval
    // The inotify watch limit was reached in this root: it is polled (as
    // above) until a walk can watch all of it again (tried at each rescan).
    bool watch_limited = false;
    // Daemon mode: its mounts are looked up (on the pool) before its next
    // walk starts. Set at start and by every rescan: mounts come and go.
    bool look_up_mounts = false;
    // Network, FUSE and overlay mounts below a root that is not polled
    // whole: each is scanned every kPollInterval and not watched by inotify.
    std::vector<watch::MountBelow> polled_mounts{};
    std::string mounts_error{};  // why mountinfo could not be read, as last logged
    std::string walk_error{};    // why the last whole walk of the root failed, as logged
  };
  struct Pending {
    std::size_t root;
    std::string rel;
    // Found by a polling scan: the file as that look saw it. It is read
    // only once a later look finds it unchanged (size/mtime stability).
    std::optional<file::FileIdentity> seen{};
    // The scan's look-up found no ledger row, and no job for this path was
    // committed since: the read need not look again. (While the path is
    // known_, no other job for it can be committed.)
    bool ledger_checked = false;
    // Looked at again after a job for this path ended (rediscover()): most
    // often nothing new is there, so finding it gone is not news.
    bool recheck = false;
  };
  // A path on its way, from discovery until its job is over.
  struct Known {
    std::size_t root;
    std::string rel;
    // Its read has started: an inotify event for it from now on may announce
    // a new version (the file saved again while this one is in flight).
    bool read_started = false;
    bool seen_again = false;  // such an event came
  };
  // A walk of (part of) a root, handed over in chunks as the backlog drains.
  struct Scan {
    std::size_t root;
    bool startup;
    bool whole_root;
    std::shared_ptr<watch::ScanCursor> cursor;  // shared with the chunk on the pool
    // A walk under way may have passed a changed folder already, so a new
    // request is not folded into it.
    bool started = false;
    std::size_t files = 0;  // candidates found so far (scan.done)
  };
  static constexpr std::size_t kScanChunk = 1024;  // files per chunk
  // How often a root on a network or FUSE file system, or such a mount
  // below a root, is scanned: inotify sees no writes made by other hosts
  // there (NFS, SMB, sshfs...).
  static constexpr std::chrono::seconds kPollInterval{2};
  static constexpr std::size_t kBacklogLow = 512;  // scan on when the backlog is below
  // A file this pipeline finished (this run or, from the ledger, before).
  struct Finished {
    file::FileIdentity identity;
    bool done = true;                   // else failed
    std::filesystem::path record_path;  // where its record is
  };
  // What the ledger says about one file version, looked up on the pool.
  struct Prior {
    bool looked_up = false;            // a look-up answered (else: gone, or it failed)
    std::optional<Finished> finished;  // it has a row
  };
  // A scan chunk's files, looked up in one read transaction (pool).
  [[nodiscard]] static std::vector<Prior> lookUpPriors(
      LedgerLookup& lookup, const std::string& pipeline, const std::string& record_prefix,
      const std::vector<watch::ScannedFile>& files);

  // pipeline_watch.cpp
  void watchRoot(std::size_t root);
  // Looks up the root's file system and the mounts below it on the pool,
  // as the discovery job of the moment (scans wait for it, so the root is
  // watched before it is walked), then applyWatchPlan().
  void lookUpMounts(std::size_t root);
  // Inotify for the root, or polling for the whole root or for the
  // untrusted mounts below it; logs what changed.
  void applyWatchPlan(std::size_t root, watch::WatchPlan plan);
  void setPolledMounts(std::size_t root, std::vector<watch::MountBelow> mounts);
  // The watch limit was reached: polls the root instead, releasing its watches.
  void fallBackToPolling(std::size_t root, const Error& error);
  // Starts the poll timer if a root or mount is polled, or a root waits to
  // be watched again.
  void armPollTimer();
  void onPollTimer();
  // Daemon mode, not polled, and not watched (missing, or lost).
  [[nodiscard]] bool unwatched(const Root& root) const;
  // `rel` is a polled mount below `root`, or inside one.
  [[nodiscard]] bool inPolledMount(std::size_t root, const std::string& rel) const;
  // pipeline_intake.cpp
  void scan(std::size_t root, const std::string& start_rel, bool startup);
  void scanNextChunk();
  void onScanned(watch::ScanResult result, std::vector<Prior> priors);
  void logScanErrors(std::size_t root, bool whole_root, const std::vector<std::string>& errors);
  void onWatchEvent(std::size_t root, const watch::InotifyWatcher::Event& event);
  // `identity` comes from a scan (nullptr for an inotify event).
  void discover(std::size_t root, const std::string& rel, std::chrono::milliseconds delay,
                const file::FileIdentity* identity = nullptr, bool polled = false,
                bool ledger_checked = false);
  // How long a file found by polling must stay unchanged: settle, and at
  // least one poll interval.
  [[nodiscard]] std::chrono::milliseconds stabilityWait() const;
  // A file found again that was finished before: a source whose record
  // was committed but which was not moved or deleted yet (a crash in
  // between, or a failed move) is disposed of now; a kept one is left.
  void onFinishedBefore(std::size_t root, const std::string& rel, const Finished& finished);
  // Ends a path's time in known_. Returns it when another version may be
  // at the path now (`changed`: the commit found one; or an event came
  // after the read started), to be given to rediscover() once the caller
  // is done with the job.
  [[nodiscard]] std::optional<Known> forget(const std::string& key, bool changed = false);
  void rediscover(const std::optional<Known>& again);
  void recover(std::size_t root, const std::string& rel, const Finished& finished);
  void defer(Pending pending, std::chrono::milliseconds delay);
  void onDeferredDue();
  void rescanAll();
  // pipeline.cpp
  void startRead(Pending pending);
  void onRead(std::unique_ptr<Job> job, file::ReadOutcome outcome);
  void onAnswered(std::unique_ptr<Job> job);
  void failJob(std::unique_ptr<Job> job, llm::FailureKind kind, std::string message);
  void commit(std::unique_ptr<Job> job, bool success);
  void onRecordUnwritable(std::unique_ptr<Job> job, const file::CommitOutcome& outcome);
  void onRecordWritten(std::unique_ptr<Job> job, const file::CommitOutcome& outcome);
  [[nodiscard]] LedgerRow ledgerRow(const Job& job, const file::CommitItem& item,
                                    WallTime now) const;
  [[nodiscard]] std::string keyOf(std::size_t root, const std::string& rel) const;

  Deps deps_;
  const config::Pipeline config_;
  const std::string endpoint_name_;
  const std::string model_;
  const std::size_t index_;
  std::shared_ptr<const llm::RequestBuilder> builder_;  // shared with read work on the pool
  watch::PathFilter filter_;
  std::vector<Root> roots_;
  Mode mode_ = Mode::kOnce;
  bool discovering_ = false;
  std::deque<Scan> scans_;  // the front one is walking; one chunk on the pool at a time
  bool chunk_running_ = false;
  std::size_t reads_running_ = 0;
  std::size_t startup_scans_left_ = 0;
  std::deque<Pending> backlog_;
  std::multimap<MonoTime, Pending> deferred_;
  uv::Timer deferred_timer_;
  uv::Timer rescan_timer_;
  uv::Timer poll_timer_;
  // Paths (keyOf) from discovery to commit.
  std::unordered_map<std::string, Known> known_;
  // Finished files by record rel (Job::rel) whose source stays in place and
  // that have no ledger row to look up: every such file without a ledger,
  // and with one only those whose record could not be written. Rescans do
  // not send them again while they are unchanged.
  std::unordered_map<std::string, Finished> finished_;
  // Paths (keyOf) committed while a scan chunk was on the pool: its look-up
  // may have missed their new rows, so their reads look again.
  std::unordered_set<std::string> committed_during_chunk_;
  // dedupe: sha256: content hash -> result of the first file with it.
  std::unordered_map<std::string, std::filesystem::path> done_by_sha_;
  PipelineCounters counters_;
};

}  // namespace dropd::pipeline
