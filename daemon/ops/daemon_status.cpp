// The Daemon's status server: started with the daemon, kept across reloads
// (a changed status.listen or token rebinds), and the feeds of its model.
#include <fmt/format.h>

#include "daemon_parts.hpp"

namespace dropd::ops {
namespace {

// How long /events' pending events wait to go out together, at most: the
// hub writes them sooner once 64 KiB wait (EventHubLimits::flush_bytes;
// ~60 ms of events at 1,000 files/s, ~20 ms at 3,000). Each flush costs
// a write and a wake-up per subscriber whatever its size, so fewer and
// larger ones cost the daemon less; 50 ms is still below what a person
// watching the page or --follow notices (a screen refresh is 17 ms, a
// reaction 200 ms).
constexpr std::chrono::milliseconds kEventFlushDelay{50};

StatusParts partsOf(Daemon::State& s) {
  return StatusParts{s.config,       s.pipelines,  s.dispatchers,  [&s] { return s.reloading(); },
                     s.lookup.get(), s.clock,      s.started_wall, s.once,
                     s.mask.get(),   &s.event_hub, s.instance,     s.ledger.get(),
                     s.claims.get()};
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
  s.events.subscribe([&s](const pipeline::JobEvent& e) {
    s.status_model.onJobEvent(e);
    if (s.status_server) {  // no server, no subscriber who could resume
      s.event_feed.onJobEvent(e);
    }
  });
  s.event_flush.emplace(*uv::Timer::create(s.loop->get()));
  s.event_hub.onPending([&s] {
    if (!s.event_flush) {
      s.event_hub.flush();  // stopping: the timer is gone
      return;
    }
    DROPD_CHECK(s.event_flush->start(kEventFlushDelay, [&s] { s.event_hub.flush(); }).has_value(),
                "/events flush timer");
  });
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

void stopStatus(Daemon::State& s) {
  // A clean end (the last chunk) before the connections go: `dropd status
  // --follow` tells a stopped daemon from a broken stream.
  s.event_hub.endAll();
  s.status_server.reset();
}

void tickStatus(Daemon::State& s) {
  for (const auto& d : s.dispatchers) {
    s.event_feed.checkEndpoint(*d);  // pauses and breakers end on timers, not attempts
  }
  s.event_hub.tick(s.clock.now());
}

void observeDispatcher(Daemon::State& s, pipeline::Dispatcher& d) {
  // The Dispatcher takes one observer: it feeds both the model and /events.
  // `d` outlives its own observer.
  d.observeAttempts([&s, &d](const pipeline::Job& job, const llm::Attempt& attempt) {
    s.status_model.onAttempt(d.name(), job, attempt);
    s.event_feed.checkEndpoint(d);
  });
}

void noteDispatcherGone(Daemon::State& s, const pipeline::Dispatcher& d) {
  s.status_model.addThrottleWaitBefore(d.name(), d.throttleWaitTotal());
}

}  // namespace dropd::ops
