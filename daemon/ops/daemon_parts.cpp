#include "daemon_parts.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "dropd/throttle/fleet_share.hpp"
#include "dropd/uv/check.hpp"

namespace dropd::ops {

void makeFolders(const config::Config& cfg, spdlog::logger& log) {
  for (const config::Pipeline& p : cfg.pipelines) {
    for (const auto* dir : {&p.output_dir, &p.on_success.dir, &p.on_failure.dir}) {
      std::error_code ec;
      if (!dir->empty() && !std::filesystem::create_directories(*dir, ec) && ec) {
        log.error("folder.unwritable pipeline={} dir={:?} error={:?}", p.name, dir->string(),
                  ec.message());
      }
    }
    for (const auto& root : p.watch) {
      if (!std::filesystem::is_directory(root)) {
        log.error("watch.missing_root pipeline={} root={:?} hint=\"create it; retried every 2 s\"",
                  p.name, root.string());
      }
    }
  }
}

namespace {

// Which proxy each endpoint uses, decided at config load (config/proxy.hpp):
// at start and after every reload. Never the credentials: the proxy's
// display() has none, and the username alone is not logged either.
void logProxy(spdlog::logger& log, const config::Endpoint& endpoint) {
  if (endpoint.proxy) {
    log.info("endpoint.proxy endpoint={} proxy={} from={:?} auth={}", endpoint.name,
             endpoint.proxy->display(), endpoint.proxy->source,
             endpoint.proxy->username.empty() ? "none" : "basic");
  } else {
    log.info("endpoint.proxy endpoint={} proxy=none why={:?}", endpoint.name,
             endpoint.direct_because);
  }
}

}  // namespace

void shareLimits(Daemon::State& s) {
  if (!s.claims) {
    return;
  }
  const std::uint32_t live = s.claims->liveInstances();
  for (auto& d : s.dispatchers) {
    d->shareLimitsWith(live);
  }
  for (const config::Endpoint& e : s.config.endpoints) {
    if (e.limits.requests_per_minute > 0 || e.limits.tokens_per_minute > 0) {
      s.log.info("endpoint.fleet_share endpoint={} instances={} rpm={} tpm={}", e.name, live,
                 throttle::fleetShare(static_cast<double>(e.limits.requests_per_minute), live),
                 throttle::fleetShare(static_cast<double>(e.limits.tokens_per_minute), live));
    }
  }
}

namespace {

void buildDispatchers(Daemon::State& s) {
  for (const config::Endpoint& endpoint : s.config.endpoints) {
    logProxy(s.log, endpoint);
    auto d = pipeline::Dispatcher::create(s.loop->get(), endpoint, s.clock, s.log);
    if (!d) {
      throw std::runtime_error("endpoint " + endpoint.name + ": " + d.error().message());
    }
    (*d)->useBudgetBook(s.budget_book);
    observeDispatcher(s, **d);
    s.dispatchers.push_back(std::move(*d));
  }
  shareLimits(s);
}

void buildPipelines(Daemon::State& s) {
  // --once must end: a record that cannot be written is retried 3 times
  // there; the daemon waits for the disk as long as it takes.
  // Each job goes back to its own pipeline (Sink::add); after each, the
  // Sink may be below its high-water mark, which every endpoint's budget
  // reads.
  auto sink = pipeline::Sink::create(
      s.loop->get(), s.log, s.once ? 3 : 0, s.ledger.get(),
      [&s] {
        for (auto& budget : s.budgets) {
          budget->wake();
        }
        maybeFinish(s);
      },
      s.mask.get());
  DROPD_CHECK(sink.has_value(), "sink timer");
  s.sink = std::move(*sink);
  s.sink->useClaims(s.claims.get());
  s.sink->observeCommits(
      [&s](std::chrono::nanoseconds took) { s.status_model.onLedgerCommit(took); });
  for (const config::Endpoint& endpoint : s.config.endpoints) {
    s.budgets.push_back(
        std::make_unique<pipeline::ReadBudget>(endpoint.limits.max_in_flight, *s.sink));
  }
  for (std::size_t i = 0; i < s.config.pipelines.size(); ++i) {
    const config::Pipeline& p = s.config.pipelines[i];
    std::size_t e = 0;
    while (s.config.endpoints[e].name != p.endpoint) {
      ++e;  // config validation guarantees the endpoint exists
    }
    pipeline::Pipeline::Deps deps{s.loop->get(),     s.clock,   s.log,
                                  *s.dispatchers[e], *s.sink,   *s.budgets[e],
                                  s.ledger.get(),    &s.events, s.extract_program};
    deps.claims = s.claims.get();
    s.pipelines.push_back(std::make_unique<pipeline::Pipeline>(deps, p, s.config.endpoints[e], i));
  }
}

}  // namespace

void buildParts(Daemon::State& s) {
  buildDispatchers(s);
  buildPipelines(s);
}

bool preloadRows(Daemon::State& s) {
  for (auto& p : s.pipelines) {
    // Nothing is committing yet: the writer is idle, read here as before.
    pipeline::Ledger* ledger = s.sqlite_ledger ? s.sqlite_ledger->writerWhileIdle() : nullptr;
    if (ledger == nullptr || !p->needsRows()) {
      continue;  // the bench build without a ledger; a pipeline without dedupe
    }
    const Status loaded = ledger->forEachRow(
        p->name(), [&p](pipeline::LedgerRow&& row) { p->preloadRow(std::move(row)); });
    if (!loaded) {
      s.log.error("ledger.unreadable error={:?}", loaded.error().message());
      return false;
    }
  }
  return true;
}

void startPipelines(Daemon::State& s) {
  for (auto& p : s.pipelines) {
    p->start(s.once ? pipeline::Pipeline::Mode::kOnce : pipeline::Pipeline::Mode::kDaemon);
  }
}

void tearDownParts(Daemon::State& s) {
  s.pipelines.clear();
  s.budgets.clear();
  s.sink.reset();
  for (const auto& d : s.dispatchers) {
    noteDispatcherGone(s, *d);
  }
  s.dispatchers.clear();
}

bool extractProgramReady(const config::Config& cfg, const std::string& program,
                         spdlog::logger& log) {
  for (const config::Pipeline& p : cfg.pipelines) {
    if (p.extract && ::access(program.c_str(), X_OK) != 0) {
      log.error(
          "extract.unavailable pipeline={} program={:?} error={:?} hint=\"install dropd-extract "
          "beside dropd, set DROPD_EXTRACT_PROGRAM, or remove extract: from the pipeline\"",
          p.name, program, std::strerror(errno));
      return false;
    }
  }
  return true;
}

bool poolWorkPending(const Daemon::State& s) {
  for (const auto& p : s.pipelines) {
    if (p->poolWorkPending()) {
      return true;
    }
  }
  return s.sink->committing() || (s.budget_saver && s.budget_saver->saving());
}

bool everythingIdle(const Daemon::State& s) {
  for (const auto& p : s.pipelines) {
    if (!p->idle()) {
      return false;
    }
  }
  return s.sink->pending() == 0;
}

std::size_t inFlight(const Daemon::State& s) {
  std::size_t n = 0;
  for (const auto& d : s.dispatchers) {
    n += d->inFlight();
  }
  return n;
}

void beginDrain(Daemon::State& s) {
  s.drain_deadline = s.clock.now() + Daemon::kDrainTimeout;
  for (auto& p : s.pipelines) {
    p->stopDiscovery();
  }
  for (auto& d : s.dispatchers) {
    // The files waiting to be sent go back to the fleet now, not at the
    // drain's end (docs/fleet.md): another instance may take them at once.
    const std::vector<pipeline::Claims::Key> dropped = d->stopSending();
    if (s.claims) {
      s.claims->release(dropped);
    }
  }
  for (auto& budget : s.budgets) {
    budget->close();  // no new reads: their bodies could not be sent
  }
}

}  // namespace dropd::ops
