#pragma once

// One connection of the PostgreSQL ledger's pool with its own queue of
// statements, run one after the other in the order given. When the server
// goes away the statement in flight and those behind it wait: the lane
// reconnects with backoff (kFirstBackoff doubling up to kMaxBackoff) and
// sends the interrupted statement again, so callers see a delay, never a
// failure. Every ledger statement is written to be safe to run twice
// (upserts, deletes by key; a try counted twice only fails a file one try
// early). The down/up changes are logged once each, with no password.
//
// Loop thread only; must outlive its statements (busy()).

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/postgres/pg_connection.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::postgres {

// How to reach the server: libpq parameters (the password among them) and
// a name for logs and errors that holds no secret.
struct PgTarget {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::string where;
};

class PgLane {
 public:
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  using ResultFn = std::function<void(Result<PgResult>)>;

  [[nodiscard]] static Result<std::unique_ptr<PgLane>> create(uv_loop_t& loop, PgTarget target,
                                                              spdlog::logger& log,
                                                              std::string name);
  PgLane(const PgLane&) = delete;
  PgLane& operator=(const PgLane&) = delete;
  ~PgLane();

  void run(PgQuery query, ResultFn done);
  [[nodiscard]] bool busy() const { return !queue_.empty(); }
  [[nodiscard]] bool up() const { return conn_ && conn_->connected(); }
  // While the server is away (between ledger.postgres_down and _up): the
  // last connection error; empty otherwise.
  [[nodiscard]] const std::string& downReason() const { return down_why_; }
  // Reconnects done since creation (tests).
  [[nodiscard]] int reconnectsForTest() const { return reconnects_; }

 private:
  PgLane(uv_loop_t& loop, PgTarget target, spdlog::logger& log, std::string name, uv::Timer timer);
  void pump();
  void connect();
  void onLost(const std::string& why);
  void onSent(PgConnection::Outcome outcome);

  uv_loop_t& loop_;
  const PgTarget target_;
  spdlog::logger& log_;
  const std::string name_;
  uv::Timer backoff_timer_;
  std::unique_ptr<PgConnection> conn_;
  bool connecting_ = false;
  bool in_flight_ = false;
  bool down_logged_ = false;
  std::string down_why_;  // set while down_logged_
  int failures_ = 0;
  int reconnects_ = 0;
  struct Item {
    PgQuery query;
    ResultFn done;
  };
  std::deque<Item> queue_;  // the front is in flight when in_flight_
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dropd::postgres
