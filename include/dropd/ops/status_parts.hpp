#pragma once

// What the status server reads of the running daemon at each request: the
// Daemon's own vectors of parts (their contents change at a reload, the
// vectors stay) and its config. Loop thread only; everything referenced is
// owned by the Daemon and outlives the server.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/config/secret_mask.hpp"
#include "dropd/ops/event_hub.hpp"
#include "dropd/pipeline/claims.hpp"
#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/pipeline/ledger_store.hpp"
#include "dropd/pipeline/lookup_queue.hpp"
#include "dropd/pipeline/pipeline.hpp"

namespace dropd::ops {

struct StatusParts {
  const config::Config& config;  // the running one (replaced in place by a reload)
  const std::vector<std::unique_ptr<pipeline::Pipeline>>& pipelines;
  const std::vector<std::unique_ptr<pipeline::Dispatcher>>& dispatchers;
  std::function<bool()> reloading;          // a reload's drain is under way
  pipeline::LookupQueue* lookup = nullptr;  // the ledger's reader; null without a ledger
  const Clock& clock;
  WallTime started_at{};
  bool once = false;
  // Every secret the daemon ran with: an endpoint's error text may quote
  // one (an echoed key), and the server's answers leave the process like
  // logs and records do, so each passes it (secret_mask.hpp). Null: none.
  const config::SecretMask* mask = nullptr;
  // GET /events' subscribers and ring (event_hub.hpp); null: /events is
  // not served (404).
  EventHub* events = nullptr;
  // This instance's name, host:pid:start (the same as in the ledger's
  // claims and rows, and in daemon.start).
  std::string instance;
  // The ledger: /readyz says when it cannot be reached. Null: none.
  const pipeline::LedgerStore* ledger = nullptr;
  // Fleet mode (ledger.backend: postgres): the live instances and the
  // files held. Null otherwise.
  const pipeline::Claims* claims = nullptr;
};

// /readyz's answer: every startup scan done, no endpoint paused, no reload,
// the ledger reachable.
struct Readiness {
  bool ready = false;
  std::string reason;  // empty when ready
};
[[nodiscard]] Readiness readiness(const StatusParts& parts);

}  // namespace dropd::ops
