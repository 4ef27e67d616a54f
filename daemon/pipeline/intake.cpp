// Intake: scans in chunks, settle deferral, rescans, and the known set.
#include "dropd/pipeline/intake.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"
#include "dropd/watch/scanner.hpp"

namespace dropd::pipeline {

using std::chrono::milliseconds;

Intake::Intake(Deps deps, const config::Pipeline& config)
    : deps_(std::move(deps)),
      config_(config),
      filter_(config.include, config.exclude),
      deferred_timer_(*uv::Timer::create(deps_.loop)),
      rescan_timer_(*uv::Timer::create(deps_.loop)),
      poll_timer_(*uv::Timer::create(deps_.loop)) {
  spread_state_ = deps_.spread_seed;
  for (const auto& path : config_.watch) {
    const std::string& prefix = config_.record_prefixes[roots_.size()];  // roots_.size(): its index
    roots_.push_back({path, prefix, nullptr});
  }
}

Intake::~Intake() { stop(); }

bool Intake::idle() const {
  return scans_.empty() && !discovery_job_running_ && backlog_.empty() && deferred_.empty() &&
         known_.empty();
}

Intake::Pending Intake::next() {
  if (deps_.spread_seed != 0 && backlog_.size() > 1) {
    // PCG's LCG step; the high bits are the well-mixed ones.
    spread_state_ = spread_state_ * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t pick = (spread_state_ >> 33) % std::min(backlog_.size(), kSpread);
    std::swap(backlog_.front(), backlog_[pick]);
  }
  Pending pending = std::move(backlog_.front());
  backlog_.pop_front();
  const std::string key = keyOf(pending.root, pending.rel);
  if (const auto known = known_.find(key); known != known_.end()) {
    move(key, known->second, JobState::kReading, "read started");
    known->second.read_started = true;  // the Pipeline's Job holds the state now
  }
  return pending;
}

void Intake::move(const std::string& key, Known& known, JobState to, std::string_view reason) {
  JobEvents::move(deps_.events, known.state, {config_.name, key}, to, reason);
}

void Intake::start(Mode mode) {
  mode_ = mode;
  discovering_ = true;
  startup_scans_left_ = roots_.size();
  for (std::size_t i = 0; i < roots_.size(); ++i) {
    // Daemon mode: the walk waits until the root is watched (or found to be
    // polled), so nothing written meanwhile is missed.
    roots_[i].look_up_mounts = mode_ == Mode::kDaemon;
    scan(i, "", /*startup=*/true);
  }
  if (mode_ == Mode::kDaemon && config_.rescan_interval.count() > 0) {
    const Status started = rescan_timer_.startRepeat(
        config_.rescan_interval, config_.rescan_interval, [this] { rescanAll(); });
    DROPD_CHECK(started.has_value(), "rescan timer");
  }
}

void Intake::stop() {
  discovering_ = false;
  scans_.clear();  // a chunk on the pool keeps its cursor alive through its own reference
  rescan_timer_.stop();
  poll_timer_.stop();
  deferred_timer_.stop();
  for (Root& root : roots_) {
    root.watcher.reset();
  }
  const auto drop = [this](const Pending& p) {
    const std::string key = keyOf(p.root, p.rel);
    if (const auto known = known_.find(key); known != known_.end()) {
      move(key, known->second, JobState::kForgotten, "discovery stopped");
      known_.erase(known);
    }
  };
  for (const Pending& p : backlog_) {
    drop(p);
  }
  for (const auto& [due, p] : deferred_) {
    drop(p);
  }
  backlog_.clear();
  deferred_.clear();
}

void Intake::scan(std::size_t root, const std::string& start_rel, bool startup) {
  for (const Scan& queued : scans_) {
    if (queued.root == root && !queued.started &&
        (queued.whole_root || queued.cursor->startRel() == start_rel)) {
      return;  // a walk that covers this one is already waiting to start
    }
  }
  scans_.push_back(
      {root, startup, start_rel.empty(), std::make_shared<watch::ScanCursor>(start_rel)});
  scanMore();
}

void Intake::scanMore() {
  if (discovery_job_running_ || scans_.empty() || backlog_.size() >= kBacklogLow || !discovering_) {
    return;
  }
  Scan& scan = scans_.front();
  if (roots_[scan.root].look_up_mounts) {
    lookUpMounts(scan.root);  // the walk starts once the root is watched
    return;
  }
  startChunk(scan);
}

void Intake::startChunk(Scan& scan) {
  discovery_job_running_ = true;
  scan.started = true;
  deps_.finished.chunkStarted();
  struct ChunkIn {
    watch::ScanRequest request;
    std::shared_ptr<watch::ScanCursor> cursor;
  };
  // Watched roots: each folder is watched (onScanned) before a later chunk
  // lists it, so nothing written there meanwhile is missed.
  ChunkIn in{{roots_[scan.root].path, "", config_.recursive, filter_,
              /*folders_first=*/roots_[scan.root].watcher != nullptr},
             scan.cursor};
  const Status queued = uv::queueWork<ChunkIn, watch::ScanResult>(
      deps_.loop, std::move(in),
      [](ChunkIn chunk) -> Result<watch::ScanResult> {
        return watch::scanChunk(chunk.request, *chunk.cursor, kScanChunk);
      },
      [this, prefix = roots_[scan.root].record_prefix](Result<watch::ScanResult> result) {
        DROPD_CHECK(result.has_value(), "scan work cancelled");
        lookUpChunk(std::move(*result), prefix);
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for a scan");
}

void Intake::lookUpChunk(watch::ScanResult scan, const std::string& record_prefix) {
  if (deps_.ledger == nullptr) {
    endChunk(std::move(scan), {});
    return;
  }
  // Files finished before are left out here, so a rescan of a folder of
  // kept files reads none of them. One findAll: one read snapshot a chunk.
  std::vector<LedgerLookup::Key> keys;
  std::vector<std::size_t> asked;  // index into files of each key
  for (std::size_t i = 0; i < scan.files.size(); ++i) {
    if (scan.files[i].identity.ino != 0) {  // 0: gone before it could be looked at
      keys.push_back({record_prefix + scan.files[i].rel, scan.files[i].identity});
      asked.push_back(i);
    }
  }
  auto held = std::make_shared<watch::ScanResult>(std::move(scan));
  deps_.ledger->findAll(config_.name, std::move(keys),
                        [this, held, asked = std::move(asked)](
                            Result<std::vector<std::optional<LedgerLookup::Finished>>> found) {
                          auto priors = priorsOf(held->files, asked, std::move(found));
                          endChunk(std::move(*held), std::move(priors));
                        });
}

void Intake::endChunk(watch::ScanResult scan, std::vector<Prior> priors) {
  discovery_job_running_ = false;
  deps_.finished.chunkEnded();
  onScanned(std::move(scan), std::move(priors));
}

void Intake::endScan(Scan& scan) {
  if (scan.startup) {
    // Ready once every root's walk is under way: the rest of a huge inbox
    // is walked as the backlog drains, which may take as long as the work.
    scan.startup = false;
    --startup_scans_left_;
  }
  if (!scan.cursor->done()) {
    return;
  }
  Root& r = roots_[scan.root];
  if (scan.whole_root && r.watch_limited && !r.polled && r.watcher) {
    r.watch_limited = false;  // a whole walk watched every folder this time
    deps_.log.info("watch.limit_cleared pipeline={} root={:?} watches={}", config_.name,
                   r.path.string(), r.watcher->watchCount());
  }
  deps_.log.debug("scan.done pipeline={} root={:?} from={:?} files={}", config_.name,
                  r.path.string(), scan.cursor->startRel(), scan.files);
  scans_.pop_front();
}

void Intake::onScanned(watch::ScanResult result, std::vector<Prior> priors) {
  if (scans_.empty()) {
    return;  // discovery stopped meanwhile
  }
  Scan& scan = scans_.front();
  const std::size_t root = scan.root;
  const bool whole_root = scan.whole_root;
  scan.files += result.files.size();
  endScan(scan);  // `scan` may be gone now
  logScanErrors(root, whole_root, result.errors);
  if (!discovering_) {
    return;
  }
  watchNewFolders(root, result.folders);
  for (std::size_t i = 0; i < result.files.size(); ++i) {
    const watch::ScannedFile& found = result.files[i];
    const Prior* prior = i < priors.size() ? &priors[i] : nullptr;
    const std::string key = keyOf(root, found.rel);
    // Committed while the chunk ran: the chunk may have seen the row before
    // the job's own move, so the row says nothing of what is left to do.
    const bool just_committed = deps_.finished.committedDuringChunk(key);
    if (prior != nullptr && prior->finished) {
      if (!known_.contains(key) && !just_committed) {
        onFinishedBefore(root, found.rel, *prior->finished);
      }
      continue;
    }
    // A failed look-up is tried again when the file is read; so is one a
    // commit may have overtaken.
    const bool checked = prior != nullptr && prior->looked_up && !just_committed;
    // Inotify sees no writes behind a polled mount, so a file found there
    // waits for a second look that finds it unchanged.
    const bool polled = roots_[root].polled || inPolledMount(root, found.rel);
    discover(root, found.rel, polled ? stabilityWait() : milliseconds(0), &found.identity, polled,
             checked);
  }
  deps_.ready();  // the Pipeline asks for the next chunk (scanMore) once the backlog is low
}

milliseconds Intake::stabilityWait() const {
  return std::max(std::chrono::duration_cast<milliseconds>(config_.settle),
                  milliseconds(kPollInterval));
}

void Intake::discover(std::size_t root, const std::string& rel, milliseconds delay,
                      const file::FileIdentity* identity, bool polled, bool ledger_checked) {
  if (!discovering_) {
    return;
  }
  if (const auto known = known_.find(keyOf(root, rel)); known != known_.end()) {
    // Already on its way. An event after its read started may be a new
    // version: that is looked at once this job is over (forget()).
    known->second.seen_again |= identity == nullptr && known->second.read_started;
    return;
  }
  if (identity != nullptr) {
    const Finished* found = deps_.finished.find(keyOf(root, rel));
    if (found != nullptr && found->identity == *identity) {
      onFinishedBefore(root, rel, *found);
      return;  // finished before: not sent again
    }
  }
  const std::string key = keyOf(root, rel);
  Known& known = known_.emplace(key, Known{root, rel}).first->second;
  ++discovered_;
  if (delay.count() > 0) {
    defer({root, rel, polled ? std::optional(*identity) : std::nullopt, ledger_checked}, delay,
          polled ? "polled: waiting for a second look" : "settle");
  } else {
    move(key, known, JobState::kQueued, "found");
    backlog_.push_back({root, rel, std::nullopt, ledger_checked});
  }
}

std::vector<Intake::Prior> Intake::priorsOf(
    const std::vector<watch::ScannedFile>& files, const std::vector<std::size_t>& asked,
    Result<std::vector<std::optional<LedgerLookup::Finished>>> found) {
  std::vector<Prior> priors(files.size());
  if (!found || found->size() != asked.size()) {
    return priors;  // each read looks up its file again (and waits if that fails too)
  }
  for (std::size_t k = 0; k < asked.size(); ++k) {
    Prior& prior = priors[asked[k]];
    prior.looked_up = true;
    if ((*found)[k]) {
      prior.finished = Finished{files[asked[k]].identity, (*found)[k]->done,
                                std::move((*found)[k]->result_path)};
    }
  }
  return priors;
}

void Intake::onFinishedBefore(std::size_t root, const std::string& rel, const Finished& finished) {
  const auto& rule = finished.done ? config_.on_success : config_.on_failure;
  if (rule.action == config::SourceAction::kKeep) {
    return;
  }
  // Known (with its "read" done) until the Pipeline's recovery job is over.
  known_.emplace(keyOf(root, rel), Known{root, rel, /*read_started=*/true});
  deps_.recover(Pending{root, rel}, finished);
}

void Intake::jobOver(const std::string& record_rel, bool changed) {
  rediscover(forget(record_rel, changed));
}

void Intake::finishedBefore(const Pending& pending, const Finished& finished) {
  const std::optional<Known> again = forget(keyOf(pending.root, pending.rel));
  onFinishedBefore(pending.root, pending.rel, finished);
  rediscover(again);
}

void Intake::settleAgain(Pending pending, const file::FileIdentity& as_read) {
  // Polled: the next look is compared with this one.
  const milliseconds wait = pending.seen ? stabilityWait() : config_.settle;
  if (pending.seen) {
    pending.seen = as_read;
  }
  defer(std::move(pending), wait, "still being written");
}

void Intake::lookUpAgain(Pending pending) {
  // Without the ledger's word the file might be sent twice: wait.
  defer(std::move(pending), kPollInterval, "ledger look-up failed");
}

void Intake::heldElsewhere(Pending pending) {
  defer(std::move(pending), kPollInterval, "held by another instance");
}

std::optional<Intake::Known> Intake::forget(const std::string& key, bool changed) {
  const auto found = known_.find(key);
  if (found == known_.end()) {
    return std::nullopt;
  }
  Known known = std::move(found->second);
  known_.erase(found);
  // A polled root or mount finds it at its next walk, with its stability check.
  const bool polled = roots_[known.root].polled || inPolledMount(known.root, known.rel);
  if (!discovering_ || polled || !(changed || known.seen_again)) {
    return std::nullopt;
  }
  return known;
}

void Intake::rediscover(const std::optional<Known>& again) {
  if (!again || !discovering_ || known_.contains(keyOf(again->root, again->rel))) {
    return;
  }
  // Read at once: a version written since is still too fresh and settles
  // then like any other (the reader's mtime check); the version just
  // committed is finished (ledger, or FinishedIndex); a moved one is gone.
  const std::string key = keyOf(again->root, again->rel);
  move(key, known_.emplace(key, Known{again->root, again->rel}).first->second, JobState::kQueued,
       "looked at again");
  backlog_.push_back({again->root, again->rel, std::nullopt, false, /*recheck=*/true});
  deps_.ready();
}

void Intake::defer(Pending pending, milliseconds delay, std::string_view reason) {
  const std::string key = keyOf(pending.root, pending.rel);
  if (const auto known = known_.find(key); known != known_.end()) {
    if (known->second.read_started) {
      known->second.state = JobState::kReading;  // handed back by the read's Job (Job::handBack)
    }
    move(key, known->second, JobState::kSettling, reason);
    known->second.read_started = false;  // the read to come sees whatever version is there then
    known->second.seen_again = false;
  }
  const MonoTime due = deps_.clock.now() + delay;
  deferred_.emplace(due, std::move(pending));
  if (deferred_.begin()->first != due && deferred_timer_.active()) {
    return;  // an earlier wake-up is already set
  }
  const auto wait = std::chrono::ceil<milliseconds>(deferred_.begin()->first - deps_.clock.now());
  const Status started =
      deferred_timer_.start(std::max(wait, milliseconds(0)), [this] { onDeferredDue(); });
  DROPD_CHECK(started.has_value(), "settle timer");
}

void Intake::onDeferredDue() {
  const MonoTime now = deps_.clock.now();
  while (!deferred_.empty() && deferred_.begin()->first <= now) {
    const Pending& due = deferred_.begin()->second;
    const std::string key = keyOf(due.root, due.rel);
    if (const auto known = known_.find(key); known != known_.end()) {
      move(key, known->second, JobState::kQueued, "settled");
    }
    backlog_.push_back(std::move(deferred_.begin()->second));
    deferred_.erase(deferred_.begin());
  }
  if (!deferred_.empty()) {
    const auto wait = std::chrono::ceil<milliseconds>(deferred_.begin()->first - now);
    const Status started = deferred_timer_.start(wait, [this] { onDeferredDue(); });
    DROPD_CHECK(started.has_value(), "settle timer");
  }
  deps_.ready();
}

}  // namespace dropd::pipeline
