#pragma once

// The status server's answers as text: /status as JSON, /metrics in the
// Prometheus text format (version 0.0.4), the RFC 3339 times of both.
// Built only when asked, from the StatusModel and the live parts. Loop
// thread only. Private to the ops module.

#include <string>

#include <nlohmann/json.hpp>

#include "dropd/base/clock.hpp"
#include "dropd/ops/status_model.hpp"
#include "dropd/ops/status_parts.hpp"

namespace dropd::ops {

// "2026-12-04T15:01:02.345Z".
[[nodiscard]] std::string rfc3339(WallTime at);
// A monotonic time to come as a wall time ("until" fields), now + (at - now).
[[nodiscard]] WallTime wallTimeOf(MonoTime at, const Clock& clock);

[[nodiscard]] nlohmann::ordered_json statusJson(const StatusModel& model, const StatusParts& parts);
[[nodiscard]] nlohmann::ordered_json endpointJson(const pipeline::Dispatcher& d,
                                                  const StatusParts& parts);

// An endpoint's health in one word, as /events names it, and why: "paused"
// (401/403/quota: the pause's reason), "down" (every attempt fails: the
// last error), "breaker_open" (not closed: the last error), "rate_limited"
// (the queue's head waits for rpm, tpm or a Retry-After: which) or "ok".
// Checked in that order; --once's give-up rule reads the same answer.
struct EndpointState {
  std::string_view state;
  std::string reason;
};
[[nodiscard]] EndpointState endpointState(const pipeline::Dispatcher& d);

// What the subscribers to /events count, for /metrics.
struct EventCounts {
  std::size_t subscribers = 0;
  std::uint64_t dropped = 0;
};
[[nodiscard]] std::string metricsText(const StatusModel& model, const StatusParts& parts,
                                      EventCounts events);

}  // namespace dropd::ops
