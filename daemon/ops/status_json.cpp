// /status and the pieces of it /files and /events share: readiness, the
// endpoints' state, RFC 3339 times.
#include <unistd.h>

#include <array>
#include <cmath>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "dropd/throttle/circuit_breaker.hpp"
#include "dropd/version.hpp"

#include "ops/status_render.hpp"

namespace dropd::ops {
namespace {

using nlohmann::ordered_json;
using pipeline::JobState;

std::string hostName() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) {
    return "";
  }
  return buf.data();
}

std::string_view toString(throttle::BreakerState state) {
  switch (state) {
    case throttle::BreakerState::kClosed:
      return "closed";
    case throttle::BreakerState::kOpen:
      return "open";
    case throttle::BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

ordered_json bucketLeft(const throttle::TokenBucket& bucket) {
  if (bucket.unlimited()) {
    return nullptr;
  }
  return static_cast<std::int64_t>(std::floor(std::max(0.0, bucket.level())));
}

ordered_json jobsByState(const PipelineTally* tally) {
  ordered_json jobs = ordered_json::object();
  for (const JobState s : {JobState::kDiscovered, JobState::kSettling, JobState::kQueued,
                           JobState::kReading, JobState::kExtracting, JobState::kWaiting,
                           JobState::kSending, JobState::kBackoff, JobState::kWriting}) {
    jobs[std::string(pipeline::toString(s))] =
        tally == nullptr ? 0 : tally->in_state[static_cast<std::size_t>(s)];
  }
  return jobs;
}

ordered_json pipelineJson(const pipeline::Pipeline& p, const config::Pipeline& cfg,
                          const StatusModel& model) {
  const PipelineTally* t = model.pipeline(p.name());
  return {{"name", p.name()},
          {"endpoint", cfg.endpoint},
          {"jobs", jobsByState(t)},
          {"done", t == nullptr ? 0 : t->done},
          {"failed", t == nullptr ? 0 : t->failed},
          {"skipped", t == nullptr ? 0 : t->skipped},
          {"files_per_second", t == nullptr ? 0.0 : model.filesPerSecond(*t)},
          {"startup_scan_done", p.startupScanDone()}};
}

}  // namespace

std::string rfc3339(WallTime at) {
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(at);
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(ms);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", secs, (ms - secs).count());
}

WallTime wallTimeOf(MonoTime at, const Clock& clock) {
  return clock.wallNow() + std::chrono::duration_cast<WallTime::duration>(at - clock.now());
}

Readiness readiness(const StatusParts& parts) {
  if (parts.reloading()) {
    return {false, "reloading"};
  }
  for (const auto& p : parts.pipelines) {
    if (!p->startupScanDone()) {
      return {false, "startup scan not done: pipeline " + p->name()};
    }
  }
  for (const auto& d : parts.dispatchers) {
    if (EndpointState state = endpointState(*d); state.state == "paused") {
      return {false, fmt::format("endpoint {} paused: {}", d->name(), state.reason)};
    }
  }
  if (parts.ledger != nullptr) {
    if (std::string why = parts.ledger->unreachable(); !why.empty()) {
      return {false, "ledger unreachable: " + why};
    }
  }
  return {true, ""};
}

// The budgets of the endpoint and its pipelines, those set: a limit
// (tokens_per_day, null without one) and what the day cost at the price.
ordered_json budgetsJson(const pipeline::Dispatcher& d) {
  ordered_json out = ordered_json::array();
  for (const auto& b : d.budgets()) {
    const auto price = b.cost_per_1k_tokens;
    out.push_back({{"scope", b.scope},
                   {"name", b.name},
                   {"tokens_per_day",
                    b.tokens_per_day != 0 ? ordered_json(b.tokens_per_day) : ordered_json(nullptr)},
                   {"used_today", b.used_today},
                   {"spent", b.spent},
                   {"cost_per_1k_tokens", price ? ordered_json(*price) : ordered_json(nullptr)},
                   {"cost_today", price ? ordered_json(b.cost_today) : ordered_json(nullptr)}});
  }
  return out;
}

ordered_json endpointJson(const pipeline::Dispatcher& d, const StatusParts& parts) {
  const throttle::EndpointLimiter& limiter = d.gate().limiter();
  const auto paused = d.pausedUntil();
  return {{"name", d.name()},
          {"in_flight", d.inFlight()},
          {"limit", d.concurrencyLimit()},
          {"queued", d.held() - d.inFlight()},
          {"rpm_left", bucketLeft(limiter.requestBucket())},
          {"tpm_left", bucketLeft(limiter.tokenBucket())},
          {"paused_until", paused ? ordered_json(rfc3339(wallTimeOf(*paused, parts.clock)))
                                  : ordered_json(nullptr)},
          {"pause_reason", paused ? ordered_json(limiter.pauseReason()) : ordered_json(nullptr)},
          {"breaker", toString(limiter.breaker().state())},
          {"down", d.down()},
          {"last_error", d.lastError()},
          {"budgets", budgetsJson(d)}};
}

EndpointState endpointState(const pipeline::Dispatcher& d) {
  if (d.pausedUntil()) {
    return {"paused", d.gate().limiter().pauseReason()};
  }
  // A spent budget heals only at 00:00 UTC or with a reload: to an
  // operator (and to readiness) it is a pause, like an exhausted quota.
  for (const pipeline::Dispatcher::BudgetView& budget : d.budgets()) {
    if (budget.scope == "endpoint" && budget.spent) {
      return {"paused", fmt::format("budget.tokens_per_day ({}) spent for the UTC day",
                                    budget.tokens_per_day)};
    }
  }
  if (d.down()) {
    return {"down", d.lastError()};
  }
  if (d.gate().limiter().breaker().state() != throttle::BreakerState::kClosed) {
    return {"breaker_open", d.lastError()};
  }
  switch (d.gate().lastRefusal().blocked_by) {
    case throttle::BlockedBy::kRpm:
    case throttle::BlockedBy::kTpm:
      return {"rate_limited", std::string(throttle::toString(d.gate().lastRefusal().blocked_by))};
    case throttle::BlockedBy::kPaused:  // not paused by us: a Retry-After
      return {"rate_limited", "retry_after"};
    case throttle::BlockedBy::kBreaker:
    case throttle::BlockedBy::kSlots:
    case throttle::BlockedBy::kNone:
      break;
  }
  return {"ok", ""};
}

ordered_json statusJson(const StatusModel& model, const StatusParts& parts) {
  const Readiness ready = readiness(parts);
  ordered_json out;
  out["instance"] = {{"host", hostName()},
                     {"pid", ::getpid()},
                     {"started_at", rfc3339(parts.started_at)},
                     {"version", kVersion},
                     {"config", parts.config.file.string()},
                     {"mode", parts.once ? "once" : "daemon"},
                     {"name", parts.instance}};
  if (parts.claims != nullptr) {
    out["fleet"] = {{"live_instances", parts.claims->liveInstances()},
                    {"claims_held", parts.claims->held()},
                    {"claims_lost", parts.claims->lostCount()},
                    {"lease_s", parts.claims->lease().count()}};
  }
  out["ready"] = ready.ready;
  out["reason"] = ready.ready ? ordered_json(nullptr) : ordered_json(ready.reason);
  ordered_json pipelines = ordered_json::array();
  for (std::size_t i = 0; i < parts.pipelines.size(); ++i) {
    pipelines.push_back(pipelineJson(*parts.pipelines[i], parts.config.pipelines[i], model));
  }
  out["pipelines"] = std::move(pipelines);
  ordered_json endpoints = ordered_json::array();
  for (const auto& d : parts.dispatchers) {
    endpoints.push_back(endpointJson(*d, parts));
  }
  out["endpoints"] = std::move(endpoints);
  ordered_json failures = ordered_json::array();
  for (const FailureNote& f : model.recentFailures()) {
    failures.push_back({{"pipeline", f.pipeline},
                        {"path", f.path},
                        {"kind", f.kind},
                        {"message", f.message},
                        {"at", rfc3339(f.at)}});
  }
  out["recent_failures"] = std::move(failures);
  return out;
}

}  // namespace dropd::ops
