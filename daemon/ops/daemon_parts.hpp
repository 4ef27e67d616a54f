#pragma once

// What a config builds in a running Daemon, and the questions the lifecycle
// asks of it; shared by the start (daemon.cpp) and a reload
// (daemon_reload.cpp). Loop thread only. Private to the ops module.

#include <cstddef>

#include "daemon_state.hpp"

namespace dropd::ops {

// The output, done and failed folders (made if missing) and the watched
// roots (a missing one is logged; the pipeline retries it).
void makeFolders(const config::Config& cfg, spdlog::logger& log);

// False (logged, naming the pipeline) when a pipeline has `extract:` and
// `program` (dropd-extract) cannot be run: at start and at a reload.
[[nodiscard]] bool extractProgramReady(const config::Config& cfg, const std::string& program,
                                       spdlog::logger& log);
// The endpoints' Dispatchers, the Sink and one Pipeline per configured
// pipeline, from s.config. Throws std::runtime_error if an endpoint cannot
// be set up (its TLS context, say).
void buildParts(Daemon::State& s);
// Fleet mode: every Dispatcher's RPM/TPM limits split over the live
// instances Claims counted (docs/fleet.md, "Shared endpoint limits"),
// logged per endpoint with a limit. A no-op without claims.
void shareLimits(Daemon::State& s);
// Dedupe's content hashes from the ledger; false (logged) if it cannot be read.
[[nodiscard]] bool preloadRows(Daemon::State& s);
void startPipelines(Daemon::State& s);
// Pipelines, then the Sink, then the Dispatchers. Nothing may be on the
// threadpool for them (poolWorkPending() false), and this must not run from
// one of their own callbacks.
void tearDownParts(Daemon::State& s);

[[nodiscard]] bool poolWorkPending(const Daemon::State& s);
[[nodiscard]] bool everythingIdle(const Daemon::State& s);
[[nodiscard]] std::size_t inFlight(const Daemon::State& s);
// Stops discovery and new sends, for a stop or a reload: requests in flight
// finish and their records are committed.
void beginDrain(Daemon::State& s);

// daemon_status.cpp: the status server and what feeds its model.
// Subscribes the model to JobEvents and starts the server if configured;
// false (logged) if it cannot listen.
[[nodiscard]] bool startStatus(Daemon::State& s);
// After a reload: a server on the new status.listen (and token) replaces
// the old one, or none if `status:` went; false (logged) if it cannot listen.
[[nodiscard]] bool restartStatusIfChanged(Daemon::State& s);
// Ends the /events streams, then closes the server.
void stopStatus(Daemon::State& s);
// On the daemon's tick: endpoint changes that timers made, /events keepalives.
void tickStatus(Daemon::State& s);
// Called by buildParts() and tearDownParts() for each Dispatcher.
void observeDispatcher(Daemon::State& s, pipeline::Dispatcher& d);
void noteDispatcherGone(Daemon::State& s, const pipeline::Dispatcher& d);

// daemon.cpp: called after every commit and on every tick.
void maybeFinish(Daemon::State& s);
// daemon.cpp: SIGINT/SIGTERM (`signum`), or 0 when --once gives up. A
// second call cancels what is in flight.
void beginStop(Daemon::State& s, int signum);
// daemon_reload.cpp
void beginReload(Daemon::State& s);
// On the tick: once a reload's drain is over, the new parts replace the old.
void maybeRebuild(Daemon::State& s);

}  // namespace dropd::ops
