#pragma once

// The ledger as `dropd requeue` uses it: the one LedgerStore the config
// names (SQLite in state_dir, or the fleet's PostgreSQL), opened on a loop
// of its own and called synchronously, as a command runs once and exits.
// It runs beside a live daemon: it only forgets rows, which both backends
// serialise with the daemon's writes. A database that does not answer
// within kWait is an error, never a hang.

#include <chrono>
#include <memory>
#include <optional>

#include <spdlog/logger.h>

#include "dropd/base/error.hpp"
#include "dropd/config/config.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/uv/loop.hpp"

namespace dropd::ops {

class RequeueLedger {
 public:
  static constexpr std::chrono::seconds kWait{15};

  [[nodiscard]] static Result<std::unique_ptr<RequeueLedger>> open(const config::Config& config);
  ~RequeueLedger();
  RequeueLedger(const RequeueLedger&) = delete;
  RequeueLedger& operator=(const RequeueLedger&) = delete;

  // The rows forgotten.
  [[nodiscard]] Result<std::size_t> forget(const pipeline::ForgetFilter& filter);

 private:
  RequeueLedger(uv::Loop loop, std::shared_ptr<spdlog::logger> log)
      : loop_(std::move(loop)), log_(std::move(log)) {}
  // Runs the loop until `done` holds or kWait passed; false on the latter.
  template <typename Pred>
  bool runUntil(Pred done);

  uv::Loop loop_;
  std::shared_ptr<spdlog::logger> log_;  // the store's warnings, on stderr
  std::unique_ptr<pipeline::LedgerStore> store_;
};

}  // namespace dropd::ops
