#include "ops/waiting_on.hpp"

namespace dropd::ops {
namespace {

using pipeline::JobState;
using throttle::BlockedBy;

const config::Pipeline* configOf(const StatusParts& parts, std::string_view pipeline) {
  for (const config::Pipeline& p : parts.config.pipelines) {
    if (p.name == pipeline) {
      return &p;
    }
  }
  return nullptr;
}

// A job waiting to be sent waits behind the queue's head, whose refusal
// holds for every job behind it too.
WaitingOn gateWait(const pipeline::Dispatcher& d) {
  const throttle::Decision& refusal = d.gate().lastRefusal();
  switch (refusal.blocked_by) {
    case BlockedBy::kRpm:
      return {"rpm", refusal.retry_at, ""};
    case BlockedBy::kTpm:
      return {"tpm", refusal.retry_at, ""};
    case BlockedBy::kBreaker:
      return {"breaker", refusal.retry_at, d.lastError()};
    case BlockedBy::kPaused:
      if (d.pausedUntil()) {
        return {"pause", d.pausedUntil(), d.gate().limiter().pauseReason()};
      }
      return {"retry_after", refusal.retry_at, d.lastError()};
    case BlockedBy::kSlots:
    case BlockedBy::kNone:
      break;
  }
  return {"slot", std::nullopt, ""};
}

}  // namespace

const pipeline::Dispatcher* dispatcherOf(const StatusParts& parts, std::string_view pipeline) {
  const config::Pipeline* p = configOf(parts, pipeline);
  if (p == nullptr) {
    return nullptr;
  }
  for (const auto& d : parts.dispatchers) {
    if (d->name() == p->endpoint) {
      return d.get();
    }
  }
  return nullptr;
}

WaitingOn waitingOn(const LiveJob& job, const StatusParts& parts, std::string_view pipeline,
                    std::string_view rel, bool with_until) {
  switch (job.state) {
    case JobState::kSettling: {
      const config::Pipeline* p = configOf(parts, pipeline);
      return {"settle", p == nullptr ? std::nullopt : std::optional{job.since_mono + p->settle},
              ""};
    }
    case JobState::kDiscovered:
    case JobState::kQueued:
      return {"read_budget", std::nullopt, ""};
    case JobState::kWaiting: {
      const pipeline::Dispatcher* d = dispatcherOf(parts, pipeline);
      return d == nullptr ? WaitingOn{} : gateWait(*d);
    }
    case JobState::kBackoff: {
      const pipeline::Dispatcher* d = dispatcherOf(parts, pipeline);
      std::optional<MonoTime> until;
      if (with_until && d != nullptr) {
        until = d->backoffUntil(pipeline, rel);
      }
      return {"backoff", until, job.last_error};
    }
    default:
      return {};
  }
}

}  // namespace dropd::ops
