#pragma once

// One pipeline's discovery: finds the files in its watched roots that are
// finished (settled) and not finished before, and hands them to the
// Pipeline as paths, one at a time, when the Pipeline has room to read.
// Loop thread only; owned by the Pipeline, which must outlive the
// discovery job on the pool (discoveryJobRunning()).
//
// It owns the roots, their inotify watchers and timers, the scans (handed
// over in chunks of kScanChunk as the backlog drains), the look-ups of
// each root's mounts, the settle queue and the backlog, and the known set:
// a path is known from discovery until the Pipeline says its job is over
// (jobOver(), finishedBefore()), so events and scans never hand out one
// path twice. Until a path's read starts its known entry holds its state
// (Discovered, Settling, Queued); its Job does from then on. Known paths are keyed by record rel
// (Job::rel), the key of the ledger and of FinishedIndex too.
//
// intake.cpp: scans, events, settle, the known set. intake_watch.cpp: how
// each root is watched (inotify, or polling where inotify cannot see:
// roots on network or FUSE file systems, such mounts below a local root, a
// root that is missing or was lost), looked up on the pool.

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/pipeline/finished_index.hpp"
#include "dropd/pipeline/job_events.hpp"
#include "dropd/pipeline/ledger_lookup.hpp"
#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/uv/timer.hpp"
#include "dropd/watch/inotify_watcher.hpp"
#include "dropd/watch/path_filter.hpp"
#include "dropd/watch/scanner.hpp"
#include "dropd/watch/watch_plan.hpp"

namespace dropd::pipeline {

class Intake {
 public:
  enum class Mode { kOnce, kDaemon };
  // A path ready to read, as handed to the Pipeline.
  struct Pending {
    std::size_t root;
    std::string rel;  // below the root
    // Found by a polling scan: the file as that look saw it. It is read
    // only once a later look finds it unchanged (size/mtime stability).
    std::optional<file::FileIdentity> seen{};
    // The scan's look-up found no ledger row, and no job for this path was
    // committed since: the read need not look again. (While the path is
    // known, no other job for it can be committed.)
    bool ledger_checked = false;
    // Looked at again after a job for this path ended (rediscover()): most
    // often nothing new is there, so finding it gone is not news.
    bool recheck = false;
  };
  struct Deps {
    uv_loop_t& loop;
    const Clock& clock;
    spdlog::logger& log;
    FinishedIndex& finished;
    // The ledger, for each scan chunk's files; null without a ledger.
    LedgerStore* ledger;
    // The backlog has paths: the Pipeline takes (next()) what it has room for.
    std::function<void()> ready;
    // A source finished before whose move or removal was cut off (a crash,
    // a failed move): the Pipeline disposes of it. The path is known until
    // its jobOver().
    std::function<void(const Pending&, const Finished&)> recover;
    JobEvents* events = nullptr;  // may be null; outlives the Intake
    // Fleet mode: not 0, next() takes one of the backlog's first kSpread
    // paths at random (seeded with this), so instances sharing an inbox
    // mostly take different files instead of all claiming the same ones.
    std::uint64_t spread_seed = 0;
  };
  static constexpr std::size_t kSpread = 256;

  // How often a root on a network or FUSE file system, or such a mount
  // below a root, is scanned: inotify sees no writes made by other hosts
  // there (NFS, SMB, sshfs...). Also the wait after a failed ledger look-up.
  static constexpr std::chrono::seconds kPollInterval{2};

  Intake(Deps deps, const config::Pipeline& config);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  // Starts the scans (and, in daemon mode, watching). Errors on a root are
  // logged; the other roots go on.
  void start(Mode mode);
  // Stops discovery and forgets the backlog (paths only: a restart finds them).
  void stop();

  [[nodiscard]] bool hasNext() const { return !backlog_.empty(); }
  // The backlog's first path; its read starts now.
  [[nodiscard]] Pending next();
  // Asks for the next scan chunk if the backlog is low.
  void scanMore();

  // The read found the file still being written: look again later.
  void settleAgain(Pending pending, const file::FileIdentity& as_read);
  // The read's ledger look-up failed: look again in kPollInterval.
  void lookUpAgain(Pending pending);
  // Fleet mode: another instance holds the file; look again in
  // kPollInterval (it is most often gone by then, or finished).
  void heldElsewhere(Pending pending);
  // The path's job is over. `changed`: the commit found another version at
  // the path; it (or one an event announced meanwhile) is looked at again.
  void jobOver(const std::string& record_rel, bool changed = false);
  // The read found the file finished before (a rescan raced its commit, or
  // a crash cut off its move): it is never sent again, but its source may
  // still have to be disposed of (Deps::recover).
  void finishedBefore(const Pending& pending, const Finished& finished);

  [[nodiscard]] std::string recordRel(const Pending& pending) const {
    return roots_[pending.root].record_prefix + pending.rel;
  }
  [[nodiscard]] std::filesystem::path pathOf(const Pending& pending) const {
    return roots_[pending.root].path / pending.rel;
  }

  // Nothing scanning, queued, settling, or on its way.
  [[nodiscard]] bool idle() const;
  // A scan chunk or a mount look-up is on the pool: the Intake must outlive it.
  [[nodiscard]] bool discoveryJobRunning() const { return discovery_job_running_; }
  // Every root is watched (daemon mode) and its first scan chunk is in.
  [[nodiscard]] bool startupScanDone() const { return startup_scans_left_ == 0; }
  [[nodiscard]] std::size_t backlog() const { return backlog_.size() + deferred_.size(); }
  [[nodiscard]] std::uint64_t discovered() const { return discovered_; }

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
  // A path on its way, from discovery until its job is over.
  struct Known {
    std::size_t root;
    std::string rel;
    // Its read has started: an inotify event for it from now on may announce
    // a new version (the file saved again while this one is in flight).
    // From then on its Job holds the path's state (job.hpp), until the job
    // is over or hands it back (defer()).
    bool read_started = false;
    bool seen_again = false;                 // such an event came
    JobState state = JobState::kDiscovered;  // while no Job holds it
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
  static constexpr std::size_t kBacklogLow = 512;  // scan on when the backlog is below
  // What the ledger says about one file version, looked up on the pool.
  struct Prior {
    bool looked_up = false;            // a look-up answered (else: gone, or it failed)
    std::optional<Finished> finished;  // it has a row
  };
  // What the ledger said of a scan chunk's files (index-aligned with
  // `files`; `asked` holds the index of each key's file): a failed look-up
  // leaves every file unlooked-up, and each read looks its file up again.
  [[nodiscard]] static std::vector<Prior> priorsOf(
      const std::vector<watch::ScannedFile>& files, const std::vector<std::size_t>& asked,
      Result<std::vector<std::optional<LedgerLookup::Finished>>> found);

  // intake_watch.cpp
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
  void watchNewFolders(std::size_t root, const std::vector<std::string>& folders);
  void onWatchEvent(std::size_t root, const watch::InotifyWatcher::Event& event);
  // intake.cpp
  void scan(std::size_t root, const std::string& start_rel, bool startup);
  // A scan chunk is one discovery job: the walk (pool), then the ledger
  // look-up of its files (LedgerStore::findAll), then endChunk() (loop).
  void startChunk(Scan& scan);
  void lookUpChunk(watch::ScanResult scan, const std::string& record_prefix);
  void endChunk(watch::ScanResult scan, std::vector<Prior> priors);
  void onScanned(watch::ScanResult result, std::vector<Prior> priors);
  void endScan(Scan& scan);
  void logScanErrors(std::size_t root, bool whole_root, const std::vector<std::string>& errors);
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
  void defer(Pending pending, std::chrono::milliseconds delay, std::string_view reason);
  // A path's state change while no Job holds it (JobEvents::move()).
  void move(const std::string& key, Known& known, JobState to, std::string_view reason);
  void onDeferredDue();
  void rescanAll();
  [[nodiscard]] std::string keyOf(std::size_t root, const std::string& rel) const {
    return roots_[root].record_prefix + rel;
  }

  Deps deps_;
  const config::Pipeline& config_;  // the Pipeline's copy, which outlives this
  watch::PathFilter filter_;
  std::vector<Root> roots_;
  Mode mode_ = Mode::kOnce;
  bool discovering_ = false;
  std::deque<Scan> scans_;  // the front one is walking; one chunk on the pool at a time
  // A scan chunk or a mount look-up is on the pool (one at a time).
  bool discovery_job_running_ = false;
  std::size_t startup_scans_left_ = 0;
  std::uint64_t discovered_ = 0;
  std::deque<Pending> backlog_;
  std::uint64_t spread_state_ = 0;  // Deps::spread_seed's generator
  std::multimap<MonoTime, Pending> deferred_;
  uv::Timer deferred_timer_;
  uv::Timer rescan_timer_;
  uv::Timer poll_timer_;
  // Paths (by record rel) from discovery to the end of their job.
  std::unordered_map<std::string, Known> known_;
};

}  // namespace dropd::pipeline
