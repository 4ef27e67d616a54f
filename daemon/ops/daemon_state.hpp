#pragma once

// The parts a running Daemon owns, in the order they are built (and
// destroyed in reverse: pipelines before dispatchers before the loop).

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <spdlog/logger.h>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/ops/budget_file.hpp"
#include "dropd/ops/daemon.hpp"
#include "dropd/ops/event_hub.hpp"
#include "dropd/ops/status_model.hpp"
#include "dropd/ops/status_server.hpp"
#include "dropd/ops/systemd_notifier.hpp"
#include "dropd/pipeline/budget_book.hpp"
#include "dropd/pipeline/claims.hpp"
#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/pipeline/job_events.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/pipeline/lookup_queue.hpp"
#include "dropd/pipeline/pipeline.hpp"
#include "dropd/pipeline/read_budget.hpp"
#include "dropd/pipeline/sink.hpp"
#include "dropd/pipeline/sqlite_ledger_store.hpp"
#include "dropd/uv/loop.hpp"
#include "dropd/uv/signal.hpp"
#include "dropd/uv/timer.hpp"

#include "ops/event_feed.hpp"

namespace dropd::ops {

struct Daemon::State {
  State(config::Config cfg, spdlog::logger& logger, Daemon::ConfigSource source,
        std::shared_ptr<config::SecretMask> secrets)
      : config(std::move(cfg)), log(logger), reload(std::move(source)), mask(std::move(secrets)) {
    mask->addFrom(config);
  }

  config::Config config;
  spdlog::logger& log;
  Daemon::ConfigSource reload;
  // Every secret of every config this process ran (secret_mask.hpp): never null.
  std::shared_ptr<config::SecretMask> mask;
  // A reload under way (draining): the config to put in place once the drain is over.
  std::optional<Daemon::Reloaded> next;
  [[nodiscard]] bool reloading() const { return next.has_value(); }
  bool reload_again = false;  // SIGHUP came during a reload: read the file once more after it
  SystemClock clock;
  // Every job's changes of state, for whoever subscribes; kept across
  // reloads, and outlives every Job (declared before the parts holding them).
  pipeline::JobEvents events{clock};
  // The status server's counters and live jobs since the start, fed by
  // `events` and the Dispatchers; kept across reloads.
  StatusModel status_model{clock};
  // GET /events: the ring of the last events and their subscribers, fed by
  // `events` and the Dispatchers. Here rather than in the StatusServer so
  // that ids and the ring survive a server rebuilt for a new listen
  // address or token (clients resume with Last-Event-ID), and because
  // JobEvents has no unsubscribe: its listener must live as long as it.
  EventHub event_hub{EventHubLimits{}, EventHub::firstIdAt(clock.wallNow())};
  EventFeed event_feed{event_hub, clock, mask.get()};
  // The ledger (docs/ledger.md): opened at start, kept across reloads; each
  // Sink and Pipeline that buildParts() makes calls it. Idle once drained.
  std::unique_ptr<pipeline::LedgerStore> ledger;
  // Fleet mode (ledger.backend: postgres): the files this instance holds,
  // named `instance` (host:pid:start) in the shared ledger; kept across
  // reloads; null with SQLite.
  std::unique_ptr<pipeline::Claims> claims;
  std::string instance;
  // Fleet mode's clean stop (Claims::giveBack): asked once the drain is
  // over, waited for until it answers or give_back_deadline.
  bool give_back_asked = false;
  bool given_back = false;
  MonoTime give_back_deadline{};
  // The same ledger when it is the SQLite one (dedupe's rows at start), else null.
  pipeline::SqliteLedgerStore* sqlite_ledger = nullptr;
  // The ledger's read-only connection, lent to one look-up at a time;
  // outlives the pipelines that use it.
  std::unique_ptr<pipeline::LookupQueue> lookup;
  std::string extract_program;  // dropd-extract (extractProgram())
  std::optional<uv::Loop> loop;
  // The day's token counts of every budget, kept across reloads, and
  // saved in state_dir for the next start (budget_file.hpp).
  pipeline::BudgetBook budget_book;
  std::optional<BudgetSaver> budget_saver;                         // made with the loop
  std::vector<std::unique_ptr<pipeline::Dispatcher>> dispatchers;  // one per endpoint in use
  std::unique_ptr<pipeline::Sink> sink;
  // One per endpoint, index-aligned with dispatchers: read before the Sink
  // goes, and outlive the pipelines that read under them.
  std::vector<std::unique_ptr<pipeline::ReadBudget>> budgets;
  std::vector<std::unique_ptr<pipeline::Pipeline>> pipelines;
  // While status.listen is set (daemon_status.cpp); reads the parts above.
  std::unique_ptr<StatusServer> status_server;
  std::vector<uv::Signal> signals;
  std::optional<uv::Timer> event_flush;     // writes a loop turn's /events at once
  std::optional<uv::Timer> tick;            // progress, --once completion, drain deadline
  std::optional<SystemdNotifier> notifier;  // made with the loop, gone before it
  // --once: how long every endpoint with files may be paused or down
  // before the run gives up (once_give_up.hpp), and since when each one
  // (index-aligned with dispatchers) has been so.
  std::chrono::milliseconds give_up_after{0};
  std::vector<std::optional<MonoTime>> unhealthy_since;
  bool gave_up = false;
  MonoTime started{};
  WallTime started_wall{};
  MonoTime drain_deadline{};
  bool once = false;
  bool stopping = false;
  bool ready_sent = false;
  bool progress_bar = false;
  int exit_code = 0;
};

}  // namespace dropd::ops
