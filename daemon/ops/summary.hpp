#pragma once

// What a --once run shows: a progress line on a TTY while it runs, and the
// summary at the end (files, bytes, failures by kind, files/s, wall time).

#include <string>

#include "daemon_state.hpp"

namespace dropd::ops {

void printProgress(const Daemon::State& state);

// systemd's STATUS= text: "12 queued, 3 in flight, 140 done, 2 failed",
// then "; budget spent: endpoint openai" while a budget holds files.
// Queued counts paths not yet read and jobs waiting for their endpoint;
// done and failed count since the parts were last built (start or reload).
[[nodiscard]] std::string statusLine(const Daemon::State& state);

// Prints the summary on stdout; returns 0 if every file succeeded, else 3.
[[nodiscard]] int printSummary(const Daemon::State& state);

}  // namespace dropd::ops
