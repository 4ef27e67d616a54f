#pragma once

// The daemon's lifecycle: one uv loop, the endpoints' Dispatchers, the
// Sink, one Pipeline per configured pipeline, signals, systemd notifications,
// and the stop sequence. Loop thread only; run() returns the exit code.
//
// --once: scan, process everything found, print a summary, exit 0 or 3;
// exit 1 with the files left in the inbox when every endpoint that still
// has files stays paused or down for too long (docs/operations.md).
// daemon: watch until SIGINT/SIGTERM, then stop discovering, let requests in
// flight finish (bounded by kDrainTimeout), commit their records, exit 0. A
// second signal cancels what is still in flight (those files stay in the inbox).
// SIGHUP (daemon only) reads the config again: an invalid one is logged and
// the running one stays; a valid one is put in place after a drain like the
// stop's, and the new pipelines start with a full scan (daemon_reload.cpp).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <spdlog/logger.h>

#include "dropd/base/error.hpp"
#include "dropd/config/config.hpp"
#include "dropd/config/secret_mask.hpp"

namespace dropd::ops {

class Daemon {
 public:
  static constexpr std::chrono::seconds kDrainTimeout{30};

  // What a reload reads: the config file again, and the log level it asks
  // for (a --log-level given at start still wins).
  struct Reloaded {
    config::Config config;
    spdlog::level::level_enum log_level = spdlog::level::info;
  };
  using ConfigSource = std::function<Result<Reloaded>()>;

  // Without a source, SIGHUP is logged and ignored. `mask` is the one the
  // logger masks with (logging.hpp): the Daemon adds each config's secrets
  // to it and masks records and ledger rows with it too; null: a mask of
  // its own, for records and rows only.
  Daemon(config::Config config, spdlog::logger& log, ConfigSource reload = {},
         std::shared_ptr<config::SecretMask> mask = nullptr);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // `give_up_after` (--once only): how long every endpoint that still has
  // files may be paused or down before the run gives up and exits 1
  // (give_up_rule.hpp); nullopt: twice the largest retry.max_backoff.
  [[nodiscard]] int run(bool once,
                        std::optional<std::chrono::milliseconds> give_up_after = std::nullopt);

  struct State;  // daemon_state.hpp: private to the ops module

 private:
  std::unique_ptr<State> state_;
};

}  // namespace dropd::ops
