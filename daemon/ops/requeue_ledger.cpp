#include "ops/requeue_ledger.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "dropd/pipeline/sqlite_ledger_store.hpp"
#include "dropd/postgres/pg_ledger_store.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::ops {

template <typename Pred>
bool RequeueLedger::runUntil(Pred done) {
  bool late = false;
  auto timer = uv::Timer::create(loop_.get());
  if (!timer || !timer->start(kWait, [&late] { late = true; })) {
    return false;
  }
  while (!done() && !late) {
    uv_run(&loop_.get(), UV_RUN_ONCE);
  }
  return done();
}

Result<std::unique_ptr<RequeueLedger>> RequeueLedger::open(const config::Config& config) {
  auto loop = uv::Loop::create();
  if (!loop) {
    return tl::unexpected(loop.error());
  }
  auto log = std::make_shared<spdlog::logger>("requeue",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_level(spdlog::level::warn);
  std::unique_ptr<RequeueLedger> self(new RequeueLedger(std::move(*loop), std::move(log)));
  if (config.ledger.backend == config::LedgerConfig::Backend::kSqlite) {
    auto store = pipeline::SqliteLedgerStore::open(self->loop_.get(), config.state_dir);
    if (!store) {
      return tl::unexpected(store.error());
    }
    self->store_ = std::move(*store);
    return self;
  }
  postgres::PgLedgerOptions options{config.ledger.url, std::nullopt};
  if (config.ledger.password) {
    options.password = config.ledger.password->reveal();
  }
  std::optional<Status> ready;
  auto store = postgres::PgLedgerStore::open(self->loop_.get(), *self->log_, options,
                                             [&ready](Status st) { ready = std::move(st); });
  if (!store) {
    return tl::unexpected(store.error());
  }
  self->store_ = std::move(*store);
  if (!self->runUntil([&ready] { return ready.has_value(); })) {
    return makeError(ErrorCode::kTimeout, fmt::format("the ledger at {} did not answer within {} s",
                                                      self->store_->where(), kWait.count()));
  }
  if (!*ready) {
    return tl::unexpected(ready->error());
  }
  return self;
}

RequeueLedger::~RequeueLedger() {
  // The store's calls must have called back before it goes (LedgerStore).
  (void)runUntil([this] { return !store_ || !store_->busy(); });
  store_.reset();
  loop_.run(UV_RUN_NOWAIT);
}

Result<std::size_t> RequeueLedger::forget(const pipeline::ForgetFilter& filter) {
  std::optional<Result<std::size_t>> out;
  store_->forget(filter, [&out](Result<std::size_t> n) { out = std::move(n); });
  if (!runUntil([&out] { return out.has_value(); })) {
    return makeError(ErrorCode::kTimeout, fmt::format("the ledger at {} did not answer within {} s",
                                                      store_->where(), kWait.count()));
  }
  return std::move(*out);
}

}  // namespace dropd::ops
