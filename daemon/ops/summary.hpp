#pragma once

// What a --once run shows: a progress line on a TTY while it runs, and the
// summary at the end (files, bytes, failures by kind, files/s, wall time).

#include "daemon_state.hpp"

namespace dropd::ops {

void printProgress(const Daemon::State& state);

// Prints the summary on stdout; returns 0 if every file succeeded, else 3.
[[nodiscard]] int printSummary(const Daemon::State& state);

}  // namespace dropd::ops
