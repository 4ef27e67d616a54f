#include "dropd/postgres/pg_lane.hpp"

#include <algorithm>
#include <utility>

#include "dropd/uv/check.hpp"

namespace dropd::postgres {

Result<std::unique_ptr<PgLane>> PgLane::create(uv_loop_t& loop, PgTarget target,
                                               spdlog::logger& log, std::string name) {
  auto timer = uv::Timer::create(loop);
  if (!timer) {
    return tl::unexpected(timer.error());
  }
  return std::unique_ptr<PgLane>(
      new PgLane(loop, std::move(target), log, std::move(name), std::move(*timer)));
}

PgLane::PgLane(uv_loop_t& loop, PgTarget target, spdlog::logger& log, std::string name,
               uv::Timer timer)
    : loop_(loop),
      target_(std::move(target)),
      log_(log),
      name_(std::move(name)),
      backoff_timer_(std::move(timer)) {}

PgLane::~PgLane() { *alive_ = false; }

void PgLane::run(PgQuery query, ResultFn done) {
  queue_.push_back({std::move(query), std::move(done)});
  pump();
}

void PgLane::pump() {
  if (queue_.empty() || in_flight_ || connecting_ || backoff_timer_.active()) {
    return;
  }
  if (!conn_ || !conn_->connected()) {
    connect();
    return;
  }
  in_flight_ = true;
  conn_->send(queue_.front().query,
              [this](PgConnection::Outcome outcome) { onSent(std::move(outcome)); });
}

void PgLane::connect() {
  conn_ = std::make_unique<PgConnection>(loop_, target_.keys, target_.values, target_.where);
  connecting_ = true;
  conn_->connect([this](Status st) {
    connecting_ = false;
    if (!st) {
      onLost(st.error().message());
      return;
    }
    if (down_logged_) {
      log_.warn("ledger.postgres_up lane={} where={:?} after_tries={}", name_, target_.where,
                failures_);
      ++reconnects_;
    }
    down_logged_ = false;
    down_why_.clear();
    failures_ = 0;
    pump();
  });
}

// The server is gone, or never answered: wait, then connect again. The
// statement at the front stays queued and is sent again.
void PgLane::onLost(const std::string& why) {
  in_flight_ = false;
  ++failures_;
  const auto delay = std::min(kMaxBackoff, kFirstBackoff * (1 << std::min(failures_ - 1, 6)));
  if (!down_logged_) {
    log_.warn(
        "ledger.postgres_down lane={} where={:?} error={:?} retry_in_ms={} "
        "hint=\"files wait until the database is back\"",
        name_, target_.where, why, delay.count());
    down_logged_ = true;
  }
  down_why_ = why.empty() ? std::string("unreachable") : why;
  // The connection is dropped from the timer, not from inside its callback.
  const Status started = backoff_timer_.start(delay, [this] {
    conn_.reset();
    pump();
  });
  DROPD_CHECK(started.has_value(), "postgres lane backoff timer");
}

void PgLane::onSent(PgConnection::Outcome outcome) {
  if (outcome.lost) {
    onLost(outcome.result ? std::string("connection lost") : outcome.result.error().message());
    return;
  }
  in_flight_ = false;
  Item item = std::move(queue_.front());
  queue_.pop_front();
  const std::shared_ptr<bool> alive = alive_;
  item.done(std::move(outcome.result));  // may destroy this lane
  if (*alive) {
    pump();
  }
}

}  // namespace dropd::postgres
