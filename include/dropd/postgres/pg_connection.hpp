#pragma once

// One PostgreSQL connection driven by the libuv loop: libpq's non-blocking
// API (PQconnectStartParams/PQconnectPoll, PQsendQueryPrepared, PQflush,
// PQconsumeInput) with PQsocket watched by a uv_poll. No thread and no
// blocking call, with one exception libpq imposes: PQconnectStartParams
// resolves a host NAME with a blocking getaddrinfo(), so fleet configs
// should name the server by address (docs/fleet.md).
//
// One statement at a time: send() may be called only when idle(). Named
// statements are prepared on first use on this connection (PQsendPrepare),
// then executed by name. Results come in binary format, except for simple
// queries (several statements, no parameters: migrations).
//
// Loop thread only. Destroying the connection closes its uv_poll first,
// then PQfinish()es; a callback pending then is never called. Callbacks
// may destroy the connection.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/uv/poll.hpp"

struct pg_conn;
struct pg_result;

namespace dropd::postgres {

// A statement's result (the last one of a simple query). Move-only.
class PgResult {
 public:
  explicit PgResult(pg_result* res) : res_(res, &clear) {}
  [[nodiscard]] int rows() const;
  [[nodiscard]] bool isNull(int row, int col) const;
  // int8 (binary) or any integer column of a text result.
  [[nodiscard]] std::int64_t int64At(int row, int col) const;
  // The bytes of a text, bytea (binary) or any text-format column.
  [[nodiscard]] std::string bytesAt(int row, int col) const;

 private:
  static void clear(pg_result* res) noexcept;
  std::unique_ptr<pg_result, void (*)(pg_result*)> res_;
};

// One parameter: text format (numbers, text, array literals) or binary (bytea).
struct PgParam {
  std::string value;
  bool binary = false;
};

struct PgQuery {
  // The prepared statement's name on the connection; "" for a simple query.
  std::string name;
  std::string sql;
  std::vector<PgParam> params;
};

class PgConnection {
 public:
  // What a statement brought back. `lost`: the connection broke (the error
  // says how); the statement may or may not have run. Else `result` is the
  // statement's own outcome (a SQL error is an Error with the server's
  // message, kInvalid).
  struct Outcome {
    Result<PgResult> result;
    bool lost = false;
  };
  using OutcomeFn = std::function<void(Outcome)>;

  // `keys`/`values`: libpq connection parameters, given to
  // PQconnectStartParams with expand_dbname (the first pair may be a
  // connection string or URI). `where` names the server in errors.
  PgConnection(uv_loop_t& loop, std::vector<std::string> keys, std::vector<std::string> values,
               std::string where);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Starts connecting; `done` once, with an error if it failed.
  void connect(std::function<void(Status)> done);
  [[nodiscard]] bool connected() const { return state_ == State::kReady; }
  [[nodiscard]] bool idle() const { return connected() && !pending_; }
  // Runs one statement. Only when idle(); else (or broken) `done` is
  // called at once with lost set.
  void send(PgQuery query, OutcomeFn done);

 private:
  enum class State { kNew, kConnecting, kReady, kBroken };
  void watch(int events);
  void onEvents(Result<int> events);
  void onConnectStep();
  void startStatement();
  void readResults();
  void fail(std::string why);
  void finish(Outcome outcome);
  [[nodiscard]] std::string serverError(std::string_view what) const;

  uv_loop_t& loop_;
  const std::vector<std::string> keys_;
  const std::vector<std::string> values_;
  const std::string where_;
  pg_conn* conn_ = nullptr;
  std::optional<uv::Poll> poll_;
  State state_ = State::kNew;
  std::function<void(Status)> connect_done_;
  std::set<std::string> prepared_;  // names prepared on this connection
  struct Pending {
    PgQuery query;
    OutcomeFn done;
    bool preparing = false;                   // the PQsendPrepare step runs first
    std::optional<Result<PgResult>> outcome;  // first error or last result so far
  };
  std::optional<Pending> pending_;
};

}  // namespace dropd::postgres
