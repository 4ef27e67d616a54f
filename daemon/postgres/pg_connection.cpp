#include "dropd/postgres/pg_connection.hpp"

#include <endian.h>
#include <libpq-fe.h>

#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace dropd::postgres {

void PgResult::clear(pg_result* res) noexcept { PQclear(res); }

int PgResult::rows() const { return PQntuples(res_.get()); }

bool PgResult::isNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) == 1; }

std::int64_t PgResult::int64At(int row, int col) const {
  const char* value = PQgetvalue(res_.get(), row, col);
  if (PQfformat(res_.get(), col) == 0) {
    return std::strtoll(value, nullptr, 10);
  }
  if (PQgetlength(res_.get(), row, col) != 8) {
    return 0;  // not an int8: a bug in our SQL, caught by the contract tests
  }
  std::uint64_t be = 0;
  std::memcpy(&be, value, sizeof be);
  return static_cast<std::int64_t>(be64toh(be));
}

std::string PgResult::bytesAt(int row, int col) const {
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

PgConnection::PgConnection(uv_loop_t& loop, std::vector<std::string> keys,
                           std::vector<std::string> values, std::string where)
    : loop_(loop), keys_(std::move(keys)), values_(std::move(values)), where_(std::move(where)) {}

PgConnection::~PgConnection() {
  poll_.reset();  // out of epoll before libpq closes the socket
  if (conn_ != nullptr) {
    PQfinish(conn_);
  }
}

std::string PgConnection::serverError(std::string_view what) const {
  std::string msg = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
    msg.pop_back();
  }
  return fmt::format("ledger: postgres {} ({}): {}", what, where_, msg);
}

void PgConnection::connect(std::function<void(Status)> done) {
  connect_done_ = std::move(done);
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    keys.push_back(keys_[i].c_str());
    values.push_back(values_[i].c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD || PQsetnonblocking(conn_, 1) != 0) {
    fail(serverError("connect"));
    return;
  }
  // The server's notices ("relation already exists, skipping") are not
  // ours to print: libpq's default writes them to stderr.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  state_ = State::kConnecting;
  watch(UV_WRITABLE);  // PQconnectPoll's first step waits for the socket to be writable
}

// During connect, libpq may close its socket and open another (another
// address of the host) that can reuse the same fd number: a fresh uv_poll
// at each step never watches a file that is gone. Once ready, the socket is
// the connection's for its life.
void PgConnection::watch(int events) {
  if (state_ == State::kConnecting || !poll_) {
    poll_.reset();
    if (PQsocket(conn_) < 0) {
      fail(serverError("connect"));  // libpq gave its socket up: its message says why
      return;
    }
    auto poll = uv::Poll::create(loop_, PQsocket(conn_));
    if (!poll) {
      fail(fmt::format("ledger: postgres ({}): {}", where_, poll.error().message()));
      return;
    }
    poll_.emplace(std::move(*poll));
  }
  if (auto st = poll_->start(events, [this](Result<int> ev) { onEvents(std::move(ev)); }); !st) {
    fail(fmt::format("ledger: postgres ({}): {}", where_, st.error().message()));
  }
}

void PgConnection::onEvents(Result<int> events) {
  if (!events) {
    // libuv reports a socket error (POLLERR) as EBADF. libpq can say what
    // it was ("connection refused", "server closed the connection"), which
    // the logs and /readyz show: let it look at the socket.
    if (state_ == State::kConnecting) {
      onConnectStep();
    } else if (state_ == State::kReady && PQconsumeInput(conn_) == 0) {
      fail(serverError("read"));
    } else {
      fail(fmt::format("ledger: postgres ({}): {}", where_, events.error().message()));
    }
    return;
  }
  if (state_ == State::kConnecting) {
    onConnectStep();
    return;
  }
  if (state_ != State::kReady) {
    return;
  }
  if ((*events & UV_WRITABLE) != 0) {
    const int flushed = PQflush(conn_);
    if (flushed < 0) {
      fail(serverError("send"));
      return;
    }
    if (flushed == 0) {
      watch(UV_READABLE);
    }
  }
  if ((*events & UV_READABLE) != 0) {
    if (PQconsumeInput(conn_) == 0) {
      fail(serverError("read"));
      return;
    }
    readResults();
  }
}

void PgConnection::onConnectStep() {
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING:
      watch(UV_READABLE);
      return;
    case PGRES_POLLING_WRITING:
      watch(UV_WRITABLE);
      return;
    case PGRES_POLLING_OK: {
      state_ = State::kReady;
      watch(UV_READABLE);  // the fd is final: this poll stays
      auto done = std::move(connect_done_);
      connect_done_ = nullptr;
      if (done) {
        done({});
      }
      return;
    }
    default:
      fail(serverError("connect"));
      return;
  }
}

void PgConnection::send(PgQuery query, OutcomeFn done) {
  if (!idle()) {
    done(Outcome{
        makeError(ErrorCode::kSystem, fmt::format("ledger: postgres ({}): not connected", where_)),
        true});
    return;
  }
  const bool prepare = !query.name.empty() && prepared_.count(query.name) == 0;
  pending_.emplace(Pending{std::move(query), std::move(done), prepare, std::nullopt});
  startStatement();
}

void PgConnection::startStatement() {
  Pending& p = *pending_;
  int sent = 0;
  if (p.query.name.empty()) {
    sent = PQsendQuery(conn_, p.query.sql.c_str());
  } else if (p.preparing) {
    sent = PQsendPrepare(conn_, p.query.name.c_str(), p.query.sql.c_str(),
                         static_cast<int>(p.query.params.size()), nullptr);
  } else {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const PgParam& param : p.query.params) {
      values.push_back(param.value.data());
      lengths.push_back(static_cast<int>(param.value.size()));
      formats.push_back(param.binary ? 1 : 0);
    }
    sent = PQsendQueryPrepared(conn_, p.query.name.c_str(), static_cast<int>(values.size()),
                               values.data(), lengths.data(), formats.data(), 1);
  }
  if (sent == 0) {
    fail(serverError("send"));
    return;
  }
  const int flushed = PQflush(conn_);
  if (flushed < 0) {
    fail(serverError("send"));
    return;
  }
  watch(flushed == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

// Reads every result libpq has whole; a statement is over when
// PQgetResult() returns null. The first error wins, else the last result.
void PgConnection::readResults() {
  while (pending_ && PQisBusy(conn_) == 0) {
    PGresult* res = PQgetResult(conn_);
    Pending& p = *pending_;
    if (res == nullptr) {
      if (p.preparing) {
        if (p.outcome && !*p.outcome) {
          finish(Outcome{std::move(*p.outcome), false});
          return;  // the callback may have destroyed this connection
        }
        prepared_.insert(p.query.name);
        p.preparing = false;
        p.outcome.reset();
        startStatement();
        return;
      }
      finish(
          Outcome{p.outcome ? std::move(*p.outcome) : Result<PgResult>{PgResult{nullptr}}, false});
      return;  // as above
    }
    const ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (!p.outcome || *p.outcome) {
        p.outcome.emplace(PgResult{res});
      } else {
        PQclear(res);
      }
    } else {
      const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
      std::string msg = primary != nullptr ? primary : PQresultErrorMessage(res);
      PQclear(res);
      if (!p.outcome || *p.outcome) {
        p.outcome.emplace(
            makeError(ErrorCode::kInvalid, fmt::format("ledger: postgres ({}): {}", where_, msg)));
      }
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    fail(serverError("connection"));
  }
}

void PgConnection::finish(Outcome outcome) {
  Pending p = std::move(*pending_);
  pending_.reset();
  p.done(std::move(outcome));  // may destroy this connection: nothing after
}

void PgConnection::fail(std::string why) {
  const State was = state_;
  state_ = State::kBroken;
  poll_.reset();
  if (was == State::kConnecting || was == State::kNew) {
    auto done = std::move(connect_done_);
    connect_done_ = nullptr;
    if (done) {
      done(makeError(ErrorCode::kSystem, why));
    }
    return;
  }
  if (pending_) {
    finish(Outcome{makeError(ErrorCode::kSystem, std::move(why)), true});
  }
}

}  // namespace dropd::postgres
