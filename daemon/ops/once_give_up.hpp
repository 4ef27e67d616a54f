#pragma once

// --once's give-up (give_up_rule.hpp) applied to a running Daemon: on each
// tick it looks at every endpoint, and when the rule says so it logs why at
// warning level and starts the stop, leaving the files in the inbox. Loop
// thread only. Private to the ops module.

#include <chrono>
#include <span>

#include "dropd/config/config.hpp"

#include "daemon_state.hpp"

namespace dropd::ops {

// --give-up-after's default for `cfg`: twice the largest retry.max_backoff
// of the endpoints its pipelines use.
[[nodiscard]] std::chrono::milliseconds giveUpAfterFor(const config::Config& cfg);

// Called on every tick in --once mode; starts the stop (s.gave_up) when
// every endpoint that still has files has been paused or down for longer
// than s.give_up_after.
void maybeGiveUp(Daemon::State& s);

}  // namespace dropd::ops
