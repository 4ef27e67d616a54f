#include "once_give_up.hpp"

#include <vector>

#include "dropd/ops/give_up_rule.hpp"

#include "daemon_parts.hpp"
#include "ops/status_render.hpp"

namespace dropd::ops {
namespace {

using std::chrono::milliseconds;

// Every job the endpoint holds waits on its pipeline's spent budget: for
// --once as good as a pause (it lasts until 00:00 UTC).
bool onlyParked(const pipeline::Dispatcher& d) { return d.parked() > 0 && d.held() == d.parked(); }

EndpointHealth healthOf(const pipeline::Dispatcher& d) {
  // endpointState() checks a pause (401, 403, quota, a spent budget) first:
  // it says more than "down". A breaker or a rate limit heals by itself:
  // healthy here.
  const std::string_view state = endpointState(d).state;
  if (state == "paused" || onlyParked(d)) {
    return EndpointHealth::kPaused;
  }
  return state == "down" ? EndpointHealth::kDown : EndpointHealth::kHealthy;
}

// What the once.give_up line gives as the reason.
std::string whyUnwell(const pipeline::Dispatcher& d) {
  EndpointState state = endpointState(d);
  if (state.state == "ok" && onlyParked(d)) {
    return "every file waits on its pipeline's spent budget.tokens_per_day";
  }
  return state.reason.empty() ? d.lastError() : std::move(state.reason);
}

// Files of the endpoint's pipelines not done yet: paths found and not
// read, jobs being read, queued, in flight or in backoff.
bool hasFiles(const Daemon::State& s, std::size_t endpoint) {
  if (s.dispatchers[endpoint]->held() > 0) {
    return true;
  }
  const std::string& name = s.config.endpoints[endpoint].name;
  for (std::size_t i = 0; i < s.pipelines.size(); ++i) {
    if (s.config.pipelines[i].endpoint == name && !s.pipelines[i]->idle()) {
      return true;
    }
  }
  return false;
}

// One look at every endpoint; keeps each unhealthy spell's start in s.
std::vector<EndpointWait> snapshot(Daemon::State& s, MonoTime now) {
  s.unhealthy_since.resize(s.dispatchers.size());
  std::vector<EndpointWait> waits(s.dispatchers.size());
  for (std::size_t i = 0; i < s.dispatchers.size(); ++i) {
    const EndpointHealth health = healthOf(*s.dispatchers[i]);
    s.unhealthy_since[i] = nextUnhealthySince(s.unhealthy_since[i], health, now);
    waits[i] = {hasFiles(s, i), health, s.unhealthy_since[i].value_or(now)};
  }
  return waits;
}

}  // namespace

milliseconds giveUpAfterFor(const config::Config& cfg) {
  std::vector<milliseconds> backoffs;
  for (const config::Pipeline& p : cfg.pipelines) {
    for (const config::Endpoint& e : cfg.endpoints) {
      if (e.name == p.endpoint) {
        backoffs.push_back(e.retry.max_backoff);
      }
    }
  }
  return defaultGiveUpAfter(std::span<const milliseconds>(backoffs));
}

void maybeGiveUp(Daemon::State& s) {
  const MonoTime now = s.clock.now();
  const std::vector<EndpointWait> waits = snapshot(s, now);
  if (!shouldGiveUp(waits, s.sink->pending() > 0, now, s.give_up_after)) {
    return;
  }
  for (std::size_t i = 0; i < waits.size(); ++i) {
    if (waits[i].has_files) {
      s.log.warn(
          "once.give_up endpoint={} state={} error={:?} waited_ms={} hint=\"files stay in the "
          "inbox; fix it and run again\"",
          s.dispatchers[i]->name(), toString(waits[i].health), whyUnwell(*s.dispatchers[i]),
          waitedSince(waits[i].unhealthy_since, now).count());
    }
  }
  s.gave_up = true;
  beginStop(s, 0);
}

}  // namespace dropd::ops
