#include "dropd/ops/daemon.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "dropd/file/commit.hpp"
#include "dropd/ops/cli.hpp"
#include "dropd/postgres/pg_ledger_store.hpp"
#include "dropd/uv/check.hpp"

#include "daemon_parts.hpp"
#include "once_give_up.hpp"
#include "summary.hpp"

namespace dropd::ops {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kTick{100};

#ifdef DROPD_BENCH_NO_LEDGER
// bench/pipeline's comparison build (CMake DROPD_LEDGER=OFF): no ledger is
// opened, read or written, so nothing remembers a kept file and nothing
// survives a crash. It refuses to run as a daemon.
constexpr bool kLedgerBuilt = false;
#else
constexpr bool kLedgerBuilt = true;
#endif

// This instance's name in the shared ledger's claims and rows.
std::string instanceOf(WallTime started) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) {
    host[0] = '\0';
  }
  const auto start_s =
      std::chrono::duration_cast<std::chrono::seconds>(started.time_since_epoch()).count();
  return pipeline::instanceName(host.data(), static_cast<long>(::getpid()), start_s);
}

// ledger.backend: postgres. Before the daemon's loop runs, it is driven
// here until the schema is ready: an unreachable server is waited for
// (ledger.postgres_down says so), a refusal (a newer schema) ends the run.
bool openPostgresLedger(Daemon::State& s) {
  const config::LedgerConfig& c = s.config.ledger;
  postgres::PgLedgerOptions options{c.url, std::nullopt};
  if (c.password) {
    options.password = c.password->reveal();
  }
  std::optional<Status> ready;
  auto store = postgres::PgLedgerStore::open(s.loop->get(), s.log, options,
                                             [&ready](Status st) { ready = std::move(st); });
  if (!store) {
    s.log.error("ledger.unusable error={:?}", store.error().message());
    return false;
  }
  while (!ready) {
    uv_run(&s.loop->get(), UV_RUN_ONCE);
  }
  if (!*ready) {
    s.log.error("ledger.unusable where={:?} error={:?} hint=\"nothing was processed\"",
                (*store)->where(), ready->error().message());
    return false;
  }
  s.log.info("ledger.open backend=postgres where={:?} schema={} instance={} lease_s={}",
             (*store)->where(), postgres::PgLedgerStore::schemaVersion(), s.instance,
             c.lease.count());
  s.ledger = std::move(*store);
  // Fleet mode: every file is claimed before it is read (docs/fleet.md).
  auto claims = pipeline::Claims::create(s.loop->get(), s.log, *s.ledger, s.instance, c.lease);
  DROPD_CHECK(claims.has_value(), "claims timer");
  s.claims = std::move(*claims);
  // The first count of live instances before the first send, so the
  // endpoints' limits start split (docs/fleet.md, "Shared endpoint limits").
  while (!s.claims->counted()) {
    uv_run(&s.loop->get(), UV_RUN_ONCE);
  }
  s.log.info("fleet.instances live={} instance={}", s.claims->liveInstances(), s.instance);
  s.claims->onLiveChange([&s](std::uint32_t live) {
    s.log.info("fleet.instances live={} instance={}", live, s.instance);
    shareLimits(s);
  });
  return true;
}

// The ledger refuses what it cannot trust (a network file system, a foreign
// or newer file): then nothing is processed and no source is touched.
bool openLedger(Daemon::State& s) {
  if constexpr (!kLedgerBuilt) {
    if (!s.once) {
      s.log.error(
          "daemon.no_ledger hint=\"this dropd was built for bench/pipeline without its "
          "ledger (DROPD_LEDGER=OFF); it runs --once only\"");
      return false;
    }
    s.log.warn("daemon.no_ledger hint=\"bench build (DROPD_LEDGER=OFF): nothing is recorded\"");
    return true;
  }
  if (s.config.ledger.backend == config::LedgerConfig::Backend::kPostgres) {
    return openPostgresLedger(s);
  }
  auto ledger = pipeline::SqliteLedgerStore::open(s.loop->get(), s.config.state_dir);
  if (!ledger) {
    s.log.error("ledger.unusable error={:?} hint=\"fix or move the file; nothing was processed\"",
                ledger.error().message());
    return false;
  }
  auto lookup = pipeline::LedgerLookup::open((*ledger)->where());
  if (!lookup) {
    s.log.error("ledger.unusable error={:?} hint=\"fix or move the file; nothing was processed\"",
                lookup.error().message());
    return false;
  }
  s.sqlite_ledger = ledger->get();
  s.ledger = std::move(*ledger);
  s.lookup = std::make_unique<pipeline::LookupQueue>(s.loop->get(), std::move(*lookup));
  return true;
}

// DROPD_EXTRACT_PROGRAM, else dropd-extract in dropd's own folder (the
// build dir, or /usr/bin beside /usr/bin/dropd).
std::string extractProgram() {
  if (const char* env = std::getenv("DROPD_EXTRACT_PROGRAM"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("dropd-extract") : (self.parent_path() / "dropd-extract").string();
}

// A pipeline with `extract:` needs the dropd-extract program: refused at
// start rather than failing every document.
bool findExtractProgram(Daemon::State& s) {
  s.extract_program = extractProgram();
  return extractProgramReady(s.config, s.extract_program, s.log);
}

// Crash leftovers: temp records never renamed into place.
// Fleet mode shares these folders with live instances, whose staged
// records (temps) may be waiting for their batch's turn, for as long as
// the database is away: only day-old temps are a crash's leftovers there.
constexpr std::chrono::hours kFleetTempAge{24};

void removeStaleTemps(const Daemon::State& s) {
  const bool fleet = s.config.ledger.backend == config::LedgerConfig::Backend::kPostgres;
  const std::chrono::seconds min_age = fleet ? kFleetTempAge : std::chrono::seconds(0);
  for (const config::Pipeline& p : s.config.pipelines) {
    for (const auto* dir : {&p.output_dir, &p.on_success.dir, &p.on_failure.dir}) {
      if (const std::size_t n = dir->empty() ? 0 : file::removeStaleTemps(*dir, min_age); n > 0) {
        s.log.info("recovery.temps_removed pipeline={} dir={:?} count={}", p.name, dir->string(),
                   n);
      }
    }
  }
}

}  // namespace

Daemon::Daemon(config::Config config, spdlog::logger& log, ConfigSource reload,
               std::shared_ptr<config::SecretMask> mask)
    : state_(std::make_unique<State>(
          std::move(config), log, std::move(reload),
          mask ? std::move(mask) : std::make_shared<config::SecretMask>())) {}

Daemon::~Daemon() {
  State& s = *state_;
  s.signals.clear();
  s.tick.reset();
  s.notifier.reset();
  stopStatus(s);
  s.event_flush.reset();
  tearDownParts(s);
  s.claims.reset();  // the ledger's callbacks for it find it gone
  s.lookup.reset();
  s.sqlite_ledger = nullptr;
  s.ledger.reset();  // PostgreSQL's connections close their uv_polls here
  s.loop.reset();    // runs the loop until every close callback has run
}

void beginStop(Daemon::State& s, int signum) {
  if (s.stopping) {
    s.log.warn("daemon.stop_now signal={} in_flight={}", signum, inFlight(s));
    for (auto& d : s.dispatchers) {
      d->close();  // cancels: those files stay in the inbox
    }
    return;
  }
  s.stopping = true;
  s.next.reset();  // a reload under way is dropped: the drain is the stop's now
  s.log.info("daemon.stopping signal={} in_flight={}", signum, inFlight(s));
  s.notifier->stopping();
  beginDrain(s);
}

namespace {

// Fleet mode, once nothing is in flight or waiting for the Sink: the
// claims still held go back and this instance leaves the count, so the
// other instances take its files and their larger share of the limits now
// rather than after the lease. True once answered, or after
// kGiveBackTimeout (the database is away: the claims expire by themselves).
constexpr milliseconds kGiveBackTimeout{2000};

bool givenBack(Daemon::State& s) {
  if (!s.claims || s.given_back) {
    return true;
  }
  if (!s.give_back_asked) {
    s.give_back_asked = true;
    s.give_back_deadline = s.clock.now() + kGiveBackTimeout;
    s.claims->giveBack([&s] { s.given_back = true; });
    return false;
  }
  if (s.clock.now() >= s.give_back_deadline) {
    s.log.warn(
        "claims.give_back_timeout hint=\"the database did not answer; the claims expire "
        "after the lease\"");
    s.given_back = true;
  }
  return s.given_back;
}

}  // namespace

// Called on every tick and after every commit: ends the run when its time has come.
void maybeFinish(Daemon::State& s) {
  if (!s.ready_sent) {
    bool scanned = true;
    for (const auto& p : s.pipelines) {
      scanned = scanned && p->startupScanDone();
    }
    if (scanned && !s.reloading()) {
      s.ready_sent = true;
      s.log.info("daemon.ready pipelines={}", s.pipelines.size());
      s.notifier->ready();
    }
  }
  if (s.once && !s.stopping) {
    maybeGiveUp(s);  // --once must end: the files stay in the inbox for the next run
  }
  if ((s.stopping || s.reloading()) && s.clock.now() >= s.drain_deadline && inFlight(s) > 0) {
    s.log.warn("daemon.drain_timeout in_flight={}", inFlight(s));
    for (auto& d : s.dispatchers) {
      d->close();
    }
  }
  // A signal ends --once too: what is in flight finishes, the rest stays.
  const bool done = s.stopping ? inFlight(s) == 0 && s.sink->pending() == 0
                               : s.once && everythingIdle(s) && s.ready_sent;
  if (done) {
    for (auto& p : s.pipelines) {
      p->closeExtractors();  // helpers exit at EOF; the loop runs until they are reaped
    }
  }
  if (done && !givenBack(s)) {
    return;
  }
  if (done && !poolWorkPending(s)) {
    s.loop->stop();
  }
}

int Daemon::run(bool once, std::optional<std::chrono::milliseconds> give_up_after) {
  State& s = *state_;
  s.once = once;
  s.give_up_after = give_up_after.value_or(giveUpAfterFor(s.config));
  s.started = s.clock.now();
  s.started_wall = s.clock.wallNow();
  s.instance = instanceOf(s.started_wall);
  s.progress_bar = once && ::isatty(STDERR_FILENO) != 0;
  auto loop = uv::Loop::create();
  DROPD_CHECK(loop.has_value(), "uv_loop_init");
  s.loop.emplace(std::move(*loop));
  s.notifier.emplace(s.loop->get(), s.log, [&s] { return statusLine(s); });
  if (!openLedger(s) || !findExtractProgram(s)) {
    return kExitRuntime;
  }
  makeFolders(s.config, s.log);
  removeStaleTemps(s);
  const auto budgets_file = s.config.state_dir / "budgets.json";
  restoreBudgets(budgets_file, s.budget_book, s.clock.wallNow(), s.log);
  s.budget_saver.emplace(s.loop->get(), budgets_file, s.log);
  buildParts(s);
  if (!preloadRows(s) || !startStatus(s)) {
    return kExitRuntime;
  }
  for (const int signum : {SIGINT, SIGTERM, SIGHUP}) {
    auto sig = uv::Signal::create(s.loop->get());
    DROPD_CHECK(sig.has_value(), "uv_signal_init");
    const auto on_signal = [&s](int n) {
      if (n == SIGHUP) {
        beginReload(s);
      } else {
        beginStop(s, n);
      }
    };
    DROPD_CHECK(sig->start(signum, on_signal).has_value(), "signal");
    s.signals.push_back(std::move(*sig));
  }
  s.tick.emplace(*uv::Timer::create(s.loop->get()));
  DROPD_CHECK(s.tick
                  ->startRepeat(kTick, kTick,
                                [&s] {
                                  tickStatus(s);
                                  s.budget_saver->maybeSave(s.budget_book, s.clock.wallNow(),
                                                            s.clock.now());
                                  maybeRebuild(s);
                                  if (!s.sink) {
                                    return;  // a failed reload left nothing to run
                                  }
                                  maybeFinish(s);
                                  if (s.progress_bar) {
                                    printProgress(s);
                                  }
                                })
                  .has_value(),
              "tick timer");
  s.log.info("daemon.start mode={} pipelines={} endpoints={} instance={}", once ? "once" : "daemon",
             s.pipelines.size(), s.config.endpoints.size(), s.instance);
  startPipelines(s);
  s.loop->run();
  s.budget_saver->saveNow(s.budget_book, s.clock.wallNow());
  if (once) {
    const int code = printSummary(s);
    if (s.gave_up) {
      return kExitRuntime;  // once.give_up said why
    }
    if (s.stopping) {
      s.log.warn("once.interrupted hint=\"files not done stay in the inbox for the next run\"");
      return kExitRuntime;
    }
    return code;
  }
  s.log.info("daemon.stopped");
  return s.exit_code != 0 ? s.exit_code : kExitOk;
}

}  // namespace dropd::ops
