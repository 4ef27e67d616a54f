#pragma once

// When `dropd --once` stops waiting for endpoints that will not heal by
// themselves (a wrong API key, an exhausted quota, an endpoint that is down):
// the rule of docs/operations.md, "--once and endpoints that will not heal".
// Pure functions, any thread; the Daemon (once_give_up.cpp) takes the
// snapshot on its tick and acts on the answer.

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "dropd/base/clock.hpp"

namespace dropd::ops {

enum class EndpointHealth { kHealthy, kPaused, kDown };

// "healthy", "paused", "down": the `state=` of the once.give_up line.
[[nodiscard]] std::string_view toString(EndpointHealth health);

// One endpoint at one moment, as the rule sees it.
struct EndpointWait {
  bool has_files = false;  // jobs held by its Dispatcher, or paths of its pipelines not yet done
  EndpointHealth health = EndpointHealth::kHealthy;
  // Since when it has been paused or down without a break (paused then
  // down counts as one spell); read only while health is not kHealthy.
  MonoTime unhealthy_since{};
};

// The start of an endpoint's unhealthy spell after one more look at it:
// nullopt while healthy, `since` kept while the spell goes on, `now` when it
// begins.
[[nodiscard]] std::optional<MonoTime> nextUnhealthySince(std::optional<MonoTime> since,
                                                         EndpointHealth health, MonoTime now);

// How long from `since` to `now`, in whole milliseconds; zero if `since`
// is later. Defined for any two time points (no overflow).
[[nodiscard]] std::chrono::milliseconds waitedSince(MonoTime since, MonoTime now);

// True when --once should give up: at least one endpoint has files, every
// endpoint that has files is paused or down, each has been so for longer
// than `bound`, and nothing else is progressing (`other_work`: records
// still being committed). Endpoints without files never hold it back.
// A negative bound counts as zero.
[[nodiscard]] bool shouldGiveUp(std::span<const EndpointWait> endpoints, bool other_work,
                                MonoTime now, std::chrono::milliseconds bound);

// The default bound: twice the largest retry.max_backoff of the endpoints
// in use, so a paused endpoint gets at least one probe after its first
// pause (a pause lasts max_backoff). Saturates instead of overflowing; no
// endpoints (or only non-positive backoffs) give zero.
[[nodiscard]] std::chrono::milliseconds defaultGiveUpAfter(
    std::span<const std::chrono::milliseconds> max_backoffs);

}  // namespace dropd::ops
