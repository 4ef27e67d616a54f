// SIGHUP: the config file is read again. An invalid file changes nothing
// (the error is logged). A valid one is put in place the way a restart
// would, without leaving the process: discovery and new sends stop,
// requests in flight finish and are committed (at most kDrainTimeout), then
// the pipelines, Sink and Dispatchers are built afresh and every root is
// scanned again. The ledger stays open throughout, so nothing finished is
// sent again and nothing dropped from a queue is lost: it is still in its
// inbox for the new scan.
#include <exception>

#include "dropd/ops/cli.hpp"

#include "daemon_parts.hpp"

namespace dropd::ops {
namespace {

// Builds the parts of s.config; false (logged, nothing left built) on failure.
bool tryBuild(Daemon::State& s) {
  try {
    makeFolders(s.config, s.log);
    buildParts(s);
  } catch (const std::exception& e) {
    s.log.error("daemon.reload_failed error={:?}", e.what());
    tearDownParts(s);
    return false;
  }
  return preloadRows(s);
}

}  // namespace

void beginReload(Daemon::State& s) {
  if (s.once || s.stopping) {
    s.log.info("daemon.reload_ignored reason={}", s.once ? "once" : "stopping");
    return;
  }
  if (s.reloading()) {
    s.reload_again = true;  // the file may have changed again since it was read
    return;
  }
  if (!s.reload) {
    s.log.warn("daemon.reload_ignored reason=\"no config file to read again\"");
    return;
  }
  auto next = s.reload();
  if (!next) {
    s.log.error("daemon.reload_failed error={:?} hint=\"the running config stays\"",
                next.error().message());
    return;
  }
  if (next->config.state_dir != s.config.state_dir) {
    s.log.error(
        "daemon.reload_failed error=\"state_dir changed from {} to {}\" hint=\"the ledger is "
        "open there: restart dropd to move it; the running config stays\"",
        s.config.state_dir.string(), next->config.state_dir.string());
    return;
  }
  if (!extractProgramReady(next->config, s.extract_program, s.log)) {
    s.log.error(
        "daemon.reload_failed error=\"dropd-extract cannot be run\" hint=\"the running "
        "config stays\"");
    return;
  }
  s.log.info("daemon.reloading in_flight={} hint=\"requests in flight finish first\"", inFlight(s));
  s.notifier->reloading();
  s.next = std::move(*next);
  beginDrain(s);
}

void maybeRebuild(Daemon::State& s) {
  if (!s.reloading() || s.stopping || inFlight(s) > 0 || s.sink->pending() > 0 ||
      poolWorkPending(s)) {
    return;
  }
  Daemon::Reloaded next = std::move(*s.next);
  s.next.reset();  // the drain is over, whatever the build below gives
  config::Config previous = s.config;
  tearDownParts(s);
  s.config = std::move(next.config);
  s.mask->addFrom(s.config);  // before anything of the new config can be logged or written
  if (tryBuild(s)) {
    s.log.set_level(next.log_level);
    s.log.info("daemon.reloaded pipelines={} endpoints={}", s.pipelines.size(),
               s.config.endpoints.size());
  } else {
    tearDownParts(s);
    s.config = std::move(previous);
    if (!tryBuild(s)) {
      s.log.error("daemon.failed error=\"the previous config cannot be built again either\"");
      s.exit_code = kExitRuntime;
      s.stopping = true;
      s.loop->stop();
      return;
    }
    s.log.warn("daemon.reload_reverted hint=\"the previous config runs again\"");
  }
  (void)restartStatusIfChanged(s);  // logged; the daemon runs on without it
  s.ready_sent = false;             // READY=1 again once the new pipelines' first scans are in
  startPipelines(s);
  if (s.reload_again) {
    s.reload_again = false;
    beginReload(s);
  }
}

}  // namespace dropd::ops
