#pragma once

// The daemon's lifecycle: one uv loop, the endpoints' Dispatchers, the
// Sink, one Pipeline per configured pipeline, signals, systemd notifications,
// and the stop sequence. Loop thread only; run() returns the exit code.
//
// --once: scan, process everything found, print a summary, exit 0 or 3.
// daemon: watch until SIGINT/SIGTERM, then stop discovering, let requests in
// flight finish (bounded by kDrainTimeout), commit their records, exit 0. A
// second signal cancels what is still in flight (those files stay in the inbox).

#include <chrono>
#include <memory>

#include <spdlog/logger.h>

#include "dropd/config/config.hpp"

namespace dropd::ops {

class Daemon {
 public:
  static constexpr std::chrono::seconds kDrainTimeout{30};

  Daemon(config::Config config, spdlog::logger& log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  [[nodiscard]] int run(bool once);

  struct State;  // daemon_state.hpp: private to the ops module

 private:
  std::unique_ptr<State> state_;
};

}  // namespace dropd::ops
