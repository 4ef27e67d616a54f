#pragma once

// Owns the ledger's read-only connection (LedgerLookup) on the loop thread
// and lends it to one pool work at a time: the work takes the connection
// and its input by value and gives the connection back with its result,
// so no lock guards it. Look-ups asked for while the connection is out
// wait here, in order, on the loop thread. Every pipeline shares the one
// queue (scan chunks' look-ups, and reads of files a scan could not vouch
// for).
//
// Owned by ops; built once the loop is, kept across reloads. It must not
// be destroyed while a look-up is on the pool or waiting (busy()); the
// pipelines count theirs as pool work, so a drained daemon has none.
// Loop thread only; `work` runs on the pool and must touch nothing but
// its arguments.

#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include <uv.h>

#include "dropd/pipeline/ledger_lookup.hpp"
#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {

class LookupQueue {
 public:
  LookupQueue(uv_loop_t& loop, std::unique_ptr<LedgerLookup> lookup)
      : loop_(loop), lookup_(std::move(lookup)) {}
  LookupQueue(const LookupQueue&) = delete;
  LookupQueue& operator=(const LookupQueue&) = delete;

  // Runs work(connection, in) on the pool once the connection is free;
  // `done` gets its result on the loop thread. `In` must be copyable.
  template <typename In, typename Out>
  void run(In in, Out (*work)(LedgerLookup&, In), std::function<void(Out)> done);

  // A look-up is on the pool or waiting for the connection.
  [[nodiscard]] bool busy() const { return !lookup_ || !waiting_.empty(); }

 private:
  void startNext();

  uv_loop_t& loop_;
  std::unique_ptr<LedgerLookup> lookup_;  // null while lent to a pool work
  std::deque<std::function<void()>> waiting_;
};

template <typename In, typename Out>
void LookupQueue::run(In in, Out (*work)(LedgerLookup&, In), std::function<void(Out)> done) {
  struct WorkIn {
    std::unique_ptr<LedgerLookup> lookup;
    In in;
  };
  struct WorkOut {
    std::unique_ptr<LedgerLookup> lookup;
    Out out;
  };
  waiting_.push_back([this, in = std::move(in), work, done = std::move(done)]() mutable {
    const Status queued = uv::queueWork<WorkIn, WorkOut>(
        loop_, WorkIn{std::move(lookup_), std::move(in)},
        [work](WorkIn lent) -> Result<WorkOut> {  // pool thread
          Out out = work(*lent.lookup, std::move(lent.in));
          return WorkOut{std::move(lent.lookup), std::move(out)};
        },
        [this, done](Result<WorkOut> back) {
          DROPD_CHECK(back.has_value(), "ledger look-up work cancelled");
          lookup_ = std::move(back->lookup);
          done(std::move(back->out));
          startNext();
        });
    DROPD_CHECK(queued.has_value(), "uv_queue_work for a ledger look-up");
  });
  startNext();
}

}  // namespace dropd::pipeline
