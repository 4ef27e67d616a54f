// Intake, how each root is watched: inotify, or polling where inotify
// cannot see (a root on a network or FUSE file system, such mounts below a
// local root), looked up on the threadpool at start and at every rescan;
// the events, rescans and walk errors of each root.
#include <algorithm>

#include "dropd/pipeline/intake.hpp"
#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"
#include "dropd/watch/watch_plan.hpp"

namespace dropd::pipeline {

using std::chrono::milliseconds;

namespace {

// "a/b" is below "a", not below "a/b" or "ab".
bool isBelow(std::string_view rel, std::string_view folder) {
  return rel.size() > folder.size() && rel.starts_with(folder) && rel[folder.size()] == '/';
}

// A recursive walk of the root reaches the folder at `rel`: no folder on
// the way, the folder itself included, is excluded.
bool walkAccepts(const watch::PathFilter& filter, std::string_view rel) {
  for (std::size_t end = rel.find('/');; end = rel.find('/', end + 1)) {
    if (!filter.acceptsDir(rel.substr(0, end))) {
      return false;
    }
    if (end == std::string_view::npos) {
      return true;
    }
  }
}

}  // namespace

void Intake::lookUpMounts(std::size_t root) {
  roots_[root].look_up_mounts = false;
  discovery_job_running_ = true;  // the discovery job on the pool: discoveryJobRunning()
  const Status queued = uv::queueWork<std::filesystem::path, watch::WatchPlan>(
      deps_.loop, roots_[root].path,
      [](std::filesystem::path path) -> Result<watch::WatchPlan> {
        return watch::lookUpWatchPlan(path);
      },
      [this, root](Result<watch::WatchPlan> plan) {
        discovery_job_running_ = false;
        DROPD_CHECK(plan.has_value(), "mount look-up work cancelled");
        if (discovering_) {
          applyWatchPlan(root, std::move(*plan));
          scanMore();  // the walk that waited for it
        }
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for a mount look-up");
}

void Intake::applyWatchPlan(std::size_t root, watch::WatchPlan plan) {
  Root& r = roots_[root];
  if (plan.error != r.mounts_error && !plan.error.empty()) {
    deps_.log.warn(
        "watch.mounts_unknown pipeline={} root={:?} error={:?} "
        "hint=\"network and FUSE mounts below the root are not polled\"",
        config_.name, r.path.string(), plan.error);
  }
  r.mounts_error = std::move(plan.error);
  if (plan.poll_root) {
    if (!r.polled) {
      deps_.log.warn(
          "watch.poll pipeline={} root={:?} fs={} interval_ms={} "
          "reason=\"inotify sees no writes made by other hosts\"",
          config_.name, r.path.string(), plan.root_fs, milliseconds(kPollInterval).count());
    }
    r.polled = true;
    r.watcher.reset();
    r.lost = false;
    plan.polled_mounts.clear();  // the whole root is walked every kPollInterval
  } else {
    if (r.polled) {
      deps_.log.info("watch.poll_end pipeline={} root={:?} fs={} action=inotify{}", config_.name,
                     r.path.string(), plan.root_fs,
                     r.watch_limited ? " reason=\"trying the watch limit again\"" : "");
    }
    r.polled = false;
    if (!r.watcher || r.lost) {
      r.watcher.reset();
      r.lost = false;
      watchRoot(root);  // the root may be back (or was never there)
    }
  }
  setPolledMounts(root, std::move(plan.polled_mounts));
  armPollTimer();
}

bool Intake::unwatched(const Root& root) const {
  // The root folder itself is watched by the first walk that reaches it.
  return mode_ == Mode::kDaemon && !root.polled &&
         (!root.watcher || root.lost || root.watcher->watchCount() == 0);
}

void Intake::armPollTimer() {
  const bool any = std::any_of(roots_.begin(), roots_.end(), [this](const Root& each) {
    return each.polled || !each.polled_mounts.empty() || unwatched(each);
  });
  if (any && !poll_timer_.active() && discovering_) {
    const Status started =
        poll_timer_.startRepeat(kPollInterval, kPollInterval, [this] { onPollTimer(); });
    DROPD_CHECK(started.has_value(), "poll timer");
  }
}

void Intake::setPolledMounts(std::size_t root, std::vector<watch::MountBelow> mounts) {
  Root& r = roots_[root];
  // A mount that no walk reaches (not recursive, or in an excluded folder)
  // is not polled either.
  std::erase_if(mounts, [this](const watch::MountBelow& m) {
    return !config_.recursive || !walkAccepts(filter_, m.rel);
  });
  const auto has = [](const std::vector<watch::MountBelow>& list, const watch::MountBelow& m) {
    return std::find(list.begin(), list.end(), m) != list.end();
  };
  for (const watch::MountBelow& m : mounts) {
    if (!has(r.polled_mounts, m)) {
      deps_.log.warn(
          "watch.poll pipeline={} root={:?} mount={:?} fs={} interval_ms={} "
          "reason=\"inotify sees no writes made behind this mount\"",
          config_.name, r.path.string(), m.rel, m.fs_type, milliseconds(kPollInterval).count());
    }
  }
  for (const watch::MountBelow& m : r.polled_mounts) {
    if (!has(mounts, m)) {
      deps_.log.info("watch.poll_end pipeline={} root={:?} mount={:?} fs={}", config_.name,
                     r.path.string(), m.rel, m.fs_type);
    }
  }
  r.polled_mounts = std::move(mounts);
}

void Intake::onPollTimer() {
  bool any_polled = false;
  for (std::size_t i = 0; i < roots_.size(); ++i) {
    if (unwatched(roots_[i])) {
      // Missing at start, or deleted or moved away since: look again (the
      // look-up watches it once it is back) and walk it, so nothing waits
      // for rescan_interval, which may be long or 0.
      any_polled = true;
      roots_[i].look_up_mounts = true;
      scan(i, "", /*startup=*/false);
      continue;
    }
    if (roots_[i].polled) {
      any_polled = true;
      scan(i, "", /*startup=*/false);  // a walk already waiting is not queued twice
      continue;
    }
    for (const watch::MountBelow& m : roots_[i].polled_mounts) {
      any_polled = true;
      scan(i, m.rel, /*startup=*/false);
    }
  }
  if (!any_polled) {
    poll_timer_.stop();  // nothing is polled or missing now; a later look-up starts it again
  }
}

bool Intake::inPolledMount(std::size_t root, const std::string& rel) const {
  const std::vector<watch::MountBelow>& mounts = roots_[root].polled_mounts;
  return std::any_of(mounts.begin(), mounts.end(), [&rel](const watch::MountBelow& m) {
    return rel == m.rel || isBelow(rel, m.rel);
  });
}

void Intake::fallBackToPolling(std::size_t root, const Error& error) {
  Root& r = roots_[root];
  if (!r.watch_limited) {
    deps_.log.error(
        "watch.limit_reached pipeline={} root={:?} error={:?} interval_ms={} "
        "hint=\"raise sysctl fs.inotify.max_user_watches (user.max_inotify_watches in a "
        "container); the root is walked every {} s meanwhile\"",
        config_.name, r.path.string(), error.message(), milliseconds(kPollInterval).count(),
        std::chrono::seconds(kPollInterval).count());
  }
  r.watch_limited = true;
  r.polled = true;
  r.watcher.reset();        // its watches go back to the limit, for other roots and programs
  r.polled_mounts.clear();  // the whole root is walked
  armPollTimer();
}

void Intake::watchNewFolders(std::size_t root, const std::vector<std::string>& folders) {
  if (!roots_[root].watcher) {
    return;
  }
  for (const std::string& folder : folders) {
    if (inPolledMount(root, folder)) {
      continue;  // polled: a watch there sees nothing more, and may block on the network
    }
    const Status s = roots_[root].watcher->watchFolder(folder);
    if (!s && s.error().sys == UV_ENOSPC) {
      fallBackToPolling(root, s.error());  // the walk goes on, as a polling walk
      return;
    }
    // A folder gone or unreadable meanwhile: its walk reports it (scan.failed).
    if (!s && s.error().sys != UV_ENOENT && s.error().sys != UV_EACCES) {
      deps_.log.error("watch.failed pipeline={} error={:?}", config_.name, s.error().message());
    }
  }
}

void Intake::onWatchEvent(std::size_t root, const watch::InotifyWatcher::Event& event) {
  using Kind = watch::InotifyWatcher::EventKind;
  switch (event.kind) {
    case Kind::kFileReady:
      if (filter_.acceptsFile(event.rel)) {
        discover(root, event.rel, config_.settle);
        deps_.ready();  // settle 0: it is in the backlog now, and nothing else may start it
      }
      break;
    case Kind::kFolderAppeared:
      if (config_.recursive && filter_.acceptsDir(event.rel)) {
        // Watched before it is walked: a file written into it meanwhile
        // raises an event or is found by the walk. So are its subfolders
        // (folders_first).
        if (roots_[root].watcher && !inPolledMount(root, event.rel)) {
          (void)roots_[root].watcher->watchFolder(event.rel);  // on failure the walk reports it
        }
        scan(root, event.rel, /*startup=*/false);
      }
      break;
    case Kind::kFolderLost:
      if (event.rel.empty()) {
        roots_[root].lost = true;  // the watcher may not be destroyed from its own callback
        roots_[root].walk_error = "deleted or moved away";  // watch.root_back once it is back
        deps_.log.error("watch.root_lost pipeline={} root={:?} hint=\"retried every {} s\"",
                        config_.name, roots_[root].path.string(),
                        std::chrono::seconds(kPollInterval).count());
        armPollTimer();
      }
      break;
    case Kind::kOverflow:
      deps_.log.warn("watch.overflow pipeline={} action=rescan", config_.name);
      scan(root, "", /*startup=*/false);
      break;
  }
}

void Intake::logScanErrors(std::size_t root, bool whole_root,
                           const std::vector<std::string>& errors) {
  Root& r = roots_[root];
  if (!whole_root) {
    for (const std::string& error : errors) {
      deps_.log.error("scan.failed pipeline={} error={:?}", config_.name, error);
    }
    return;
  }
  if (errors.empty()) {
    if (!r.walk_error.empty()) {
      deps_.log.info("watch.root_back pipeline={} root={:?}", config_.name, r.path.string());
      r.walk_error.clear();
    }
    return;
  }
  // A root that cannot be walked (missing, no permission) is walked again
  // every kPollInterval: say so once, not at every try.
  if (errors.front() != r.walk_error) {
    for (const std::string& error : errors) {
      deps_.log.error("scan.failed pipeline={} error={:?}{}", config_.name, error,
                      unwatched(r) ? fmt::format(" hint=\"retried every {} s\"",
                                                 std::chrono::seconds(kPollInterval).count())
                                   : std::string());
    }
  }
  r.walk_error = errors.front();
}

void Intake::rescanAll() {
  for (std::size_t i = 0; i < roots_.size(); ++i) {
    // The look-up watches a lost root afresh and finds mounts that came or went.
    roots_[i].look_up_mounts = mode_ == Mode::kDaemon;
    scan(i, "", /*startup=*/false);
  }
}

void Intake::watchRoot(std::size_t root) {
  auto watcher = watch::InotifyWatcher::create(
      deps_.loop, roots_[root].path,
      [this, root](const watch::InotifyWatcher::Event& e) { onWatchEvent(root, e); });
  if (!watcher) {
    deps_.log.error("watch.failed pipeline={} root={:?} error={:?}", config_.name,
                    roots_[root].path.string(), watcher.error().message());
    return;
  }
  roots_[root].watcher = std::move(*watcher);
}

}  // namespace dropd::pipeline
