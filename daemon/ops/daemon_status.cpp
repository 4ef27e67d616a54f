// The Daemon's status server: started with the daemon, kept across reloads
// (a changed status.listen or token rebinds), and the feeds of its model.
#include <fmt/format.h>

#include "daemon_parts.hpp"

namespace dropd::ops {
namespace {

StatusParts partsOf(Daemon::State& s) {
  return StatusParts{s.config,       s.pipelines, s.dispatchers,  [&s] { return s.reloading(); },
                     s.lookup.get(), s.clock,     s.started_wall, s.once,
                     s.mask.get()};
}

bool listen(Daemon::State& s) {
  auto server =
      StatusServer::start(s.loop->get(), *s.config.status, s.status_model, partsOf(s), s.log);
  if (!server) {
    s.log.error("status.listen_failed address={:?} error={:?}", s.config.status->listen,
                server.error().message());
    return false;
  }
  s.status_server = std::move(*server);
  return true;
}

}  // namespace

bool startStatus(Daemon::State& s) {
  s.events.subscribe([&s](const pipeline::JobEvent& e) { s.status_model.onJobEvent(e); });
  return !s.config.status || listen(s);
}

bool restartStatusIfChanged(Daemon::State& s) {
  if (!s.config.status) {
    stopStatus(s);
    return true;
  }
  if (s.status_server && s.status_server->serves(*s.config.status)) {
    return true;
  }
  stopStatus(s);  // first: the new address may be the old one with a new token
  return listen(s);
}

void stopStatus(Daemon::State& s) { s.status_server.reset(); }

void observeDispatcher(Daemon::State& s, pipeline::Dispatcher& d) {
  d.observeAttempts([&s, name = d.name()](const pipeline::Job& job, const llm::Attempt& attempt) {
    s.status_model.onAttempt(name, job, attempt);
  });
}

void noteDispatcherGone(Daemon::State& s, const pipeline::Dispatcher& d) {
  s.status_model.addThrottleWaitBefore(d.name(), d.throttleWaitTotal());
}

}  // namespace dropd::ops
