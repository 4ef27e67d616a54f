#pragma once

// One blocking connection (a SQLite handle) owned on the loop thread and
// lent to one threadpool work at a time: the work takes the connection by
// value with its own captured input, and gives it back with its result, so
// no lock guards it. Works asked for while the connection is out wait here,
// in order. The generic form of LookupQueue, for SqliteLedgerStore.
// Loop thread only; it must outlive every work (busy()).

#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include <uv.h>

#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline::detail {

template <typename Conn>
class LentConnection {
 public:
  LentConnection(uv_loop_t& loop, std::unique_ptr<Conn> conn)
      : loop_(loop), conn_(std::move(conn)) {}
  LentConnection(const LentConnection&) = delete;
  LentConnection& operator=(const LentConnection&) = delete;

  // `work` runs on the pool with the connection and must touch nothing but
  // it and its own captures; `done` gets its result on the loop thread.
  template <typename Out>
  void run(std::function<Out(Conn&)> work, std::function<void(Out)> done);

  [[nodiscard]] bool busy() const { return !conn_ || !waiting_.empty(); }
  // The connection itself, for startup code while nothing is lent.
  [[nodiscard]] Conn* idle() const { return busy() ? nullptr : conn_.get(); }

 private:
  void startNext() {
    if (!conn_ || waiting_.empty()) {
      return;
    }
    std::function<void()> next = std::move(waiting_.front());
    waiting_.pop_front();
    next();
  }

  uv_loop_t& loop_;
  std::unique_ptr<Conn> conn_;  // null while lent
  std::deque<std::function<void()>> waiting_;
};

template <typename Conn>
template <typename Out>
void LentConnection<Conn>::run(std::function<Out(Conn&)> work, std::function<void(Out)> done) {
  struct Lent {
    std::unique_ptr<Conn> conn;
    std::function<Out(Conn&)> work;
  };
  struct Back {
    std::unique_ptr<Conn> conn;
    Out out;
  };
  waiting_.push_back([this, work = std::move(work), done = std::move(done)]() mutable {
    const Status queued = uv::queueWork<Lent, Back>(
        loop_, Lent{std::move(conn_), std::move(work)},
        [](Lent lent) -> Result<Back> {  // pool thread
          Out out = lent.work(*lent.conn);
          return Back{std::move(lent.conn), std::move(out)};
        },
        [this, done = std::move(done)](Result<Back> back) {
          DROPD_CHECK(back.has_value(), "ledger work cancelled");
          conn_ = std::move(back->conn);
          startNext();  // before `done`, which may destroy the owner once idle
          done(std::move(back->out));
        });
    DROPD_CHECK(queued.has_value(), "uv_queue_work for the ledger");
  });
  startNext();
}

}  // namespace dropd::pipeline::detail
