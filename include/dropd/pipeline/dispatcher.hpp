#pragma once

// One per endpoint: owns the endpoint's queue of jobs, their retries and
// the endpoint's health. It sends jobs' requests as fast as the endpoint
// allows and no faster, retries what may succeed later (backoff with full
// jitter, Retry-After honoured even past max_backoff), pauses the endpoint
// on auth and quota errors (files wait, none fail), and hands each finished
// job back with job.completion or job.failure set.
//
// It sees no HTTP: requests go out through an llm::Client (client.hpp;
// HttpLlmClient builds the request and reads the answer), and each comes
// back as one llm::Attempt whose failure class (status_class.hpp) says
// retry, pause or fail the file. The Dispatcher owns its client; close()
// closes it, cancelling what is in flight.
//
// Every send first passes the SendGate (send_gate.hpp): concurrency slots
// (max_in_flight, or the AIMD limit when limits.adaptive), the RPM and TPM
// buckets (charged with estimateRequestTokens(), corrected by `usage`),
// Retry-After, the auth pause and the circuit breaker. Waiting jobs sit in a
// FairQueue keyed by pipeline, so pipelines sharing an endpoint take turns.
// An outage never fails a file: while the breaker is open files wait, and a
// file fails only for its own error (a 4xx) or after max_attempts while
// other requests to the endpoint succeed.
//
// Memory is bounded by the endpoint's ReadBudget (read_budget.hpp), which
// counts the bodies from read to hand-back. Loop thread only.

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/llm/client.hpp"
#include "dropd/pipeline/budget_book.hpp"
#include "dropd/pipeline/claims.hpp"
#include "dropd/pipeline/job.hpp"
#include "dropd/pipeline/send_gate.hpp"
#include "dropd/throttle/fair_queue.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

class Dispatcher {
 public:
  using DoneFn = std::function<void(std::unique_ptr<Job>)>;

  // Sends through a new llm::HttpLlmClient for `endpoint`; fails as
  // HttpLlmClient::create() does (a bad URL or CA file).
  [[nodiscard]] static Result<std::unique_ptr<Dispatcher>> create(uv_loop_t& loop,
                                                                  const config::Endpoint& endpoint,
                                                                  const Clock& clock,
                                                                  spdlog::logger& log);
  // Sends through `client` (tests script one).
  [[nodiscard]] static std::unique_ptr<Dispatcher> create(uv_loop_t& loop,
                                                          const config::Endpoint& endpoint,
                                                          const Clock& clock, spdlog::logger& log,
                                                          std::unique_ptr<llm::Client> client);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // `job.body` is set. `done` runs once, later, on the loop thread.
  void submit(std::unique_ptr<Job> job, DoneFn done);

  // Shutdown: nothing new is sent; in-flight requests may finish. Jobs that
  // were waiting (queued, in backoff, parked) are dropped (their files stay
  // in the inbox); returned are the claims those held in a fleet, for the
  // caller to give back at once (Claims::release).
  std::vector<Claims::Key> stopSending();
  // Cancels in-flight requests too (their jobs are dropped).
  void close();
  // Fleet mode (docs/fleet.md): the endpoint's RPM and TPM limits split
  // over `instances` live ones from now on; a job waiting for the old
  // share asks again at once.
  void shareLimitsWith(std::uint32_t instances);

  [[nodiscard]] std::size_t inFlight() const { return in_flight_; }
  // False once stopSending() ran: a job submitted then would never be sent.
  [[nodiscard]] bool sending() const { return sending_; }
  [[nodiscard]] std::size_t held() const {
    return waiting() + in_flight_ + backoff_.size() + parked_.size();
  }
  // Jobs set aside because their pipeline's budget is spent for the day.
  [[nodiscard]] std::size_t parked() const { return parked_.size(); }
  [[nodiscard]] const std::string& name() const { return endpoint_.name; }

  // For metrics and status.
  [[nodiscard]] std::uint32_t concurrencyLimit() const { return gate_.concurrencyLimit(); }
  [[nodiscard]] std::optional<MonoTime> pausedUntil() const { return gate_.pausedUntil(); }
  [[nodiscard]] const std::string& lastError() const { return gate_.lastError(); }
  // Every attempt of some file failed and nothing succeeded meanwhile: the
  // endpoint is unreachable or refuses us (files wait; --once gives up).
  [[nodiscard]] bool down() const { return down_; }
  [[nodiscard]] MonoTime::duration throttleWaitTotal() const { return gate_.throttleWaitTotal(); }
  [[nodiscard]] const SendGate& gate() const { return gate_; }
  // Told of every attempt that ended (not the cancelled ones), after the
  // gate learned from it: the status server counts requests, codes,
  // latencies and tokens. One observer; it must not submit or close.
  using AttemptFn = std::function<void(const Job&, const llm::Attempt&)>;
  void observeAttempts(AttemptFn fn) { observe_attempt_ = std::move(fn); }
  // Budgets (docs/config.md, "Budgets"): before a request goes, the
  // endpoint's budget.tokens_per_day and its pipeline's must not be used
  // up for the UTC day; a request is charged its estimate, then its usage.
  // While the endpoint's is spent nothing is sent; while a pipeline's is,
  // its jobs are set aside and the others go on. Both resume at 00:00 UTC
  // (a timer), or when a reload raises the limit. Files wait, never fail.
  // `book` keeps the day's counts across reloads (ops); call before submit.
  void useBudgetBook(BudgetBook& book);
  void setPipelineBudget(std::size_t pipeline, const std::string& name,
                         const config::Budget& budget);
  struct BudgetView {
    std::string scope;  // "endpoint" or "pipeline"
    std::string name;
    std::uint64_t tokens_per_day = 0;  // 0: none (a cost only)
    std::uint64_t used_today = 0;
    bool spent = false;
    std::optional<double> cost_per_1k_tokens;
    double cost_today = 0;  // used_today at that price; 0 without one
  };
  // Every budget with a limit or a cost, the endpoint's first.
  [[nodiscard]] std::vector<BudgetView> budgets() const;
  // What the day's end does, for tests that move a ManualClock past it.
  void budgetWindowForTest() { onBudgetWindow(); }

  // When that job's backoff ends (nullopt: it is not in backoff here). A
  // walk over the jobs in backoff: for one file's status, not per event.
  [[nodiscard]] std::optional<MonoTime> backoffUntil(std::string_view pipeline,
                                                     std::string_view rel) const;

 private:
  struct Entry {
    std::unique_ptr<Job> job;
    DoneFn done;
    std::uint64_t estimated_tokens = 0;  // what the TPM bucket is charged per attempt
    std::int64_t budget_day = 0;         // the UTC day its budgets were charged on
  };
  struct PipelineBudget {
    std::string name;
    throttle::DailyBudget* budget = nullptr;  // in *book_
    std::optional<double> cost_per_1k_tokens;
  };
  struct Backoff {
    Entry entry;
    uv::Timer timer;
    MonoTime due{};  // when the timer fires
  };

  Dispatcher(uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock,
             spdlog::logger& log, std::unique_ptr<llm::Client> client);
  [[nodiscard]] std::size_t waiting() const { return queued_.size() + (next_ ? 1 : 0); }
  void enqueue(Entry entry);
  void pump();
  void send(Entry entry);
  void onAttempt(Entry entry, llm::Attempt attempt);
  void onSuccess(Entry entry, llm::Attempt attempt);
  void onFailure(Entry entry, llm::Failure failure,
                 std::optional<std::chrono::milliseconds> retry_after);
  void retryLater(Entry entry, std::optional<std::chrono::milliseconds> retry_after);
  void finish(Entry entry);
  // dispatcher_budget.cpp
  [[nodiscard]] bool nextWithinBudgets();
  void chargeBudgets(Entry& entry);
  void settleBudgets(const Entry& entry, std::uint64_t used);
  void noteSpent(std::string_view scope, const std::string& name, std::uint64_t limit);
  void armBudgetTimer();
  void onBudgetWindow();

  uv_loop_t& loop_;
  const config::Endpoint endpoint_;
  const Clock& clock_;
  spdlog::logger& log_;
  std::unique_ptr<llm::Client> client_;  // null once closed
  SendGate gate_;
  throttle::FairQueue queue_;  // ids of queued_, round-robin over pipelines
  std::unordered_map<std::uint64_t, Entry> queued_;
  std::uint64_t next_id_ = 0;
  std::optional<Entry> next_;  // popped from queue_, waiting for the gate
  std::list<Backoff> backoff_;
  std::size_t in_flight_ = 0;
  MonoTime last_success_{};
  bool down_ = false;  // every attempt fails and nothing succeeded: logged once
  bool sending_ = true;
  std::mt19937_64 rng_{0x5eed};
  AttemptFn observe_attempt_;
  BudgetBook own_budgets_;
  BudgetBook* book_ = &own_budgets_;
  throttle::DailyBudget* endpoint_budget_ = nullptr;                  // in *book_
  std::unordered_map<std::size_t, PipelineBudget> pipeline_budgets_;  // by pipeline index
  std::vector<Entry> parked_;              // jobs of pipelines whose budget is spent
  std::optional<uv::Timer> budget_timer_;  // armed for the next 00:00 UTC while one is spent
  std::vector<std::string> spent_logged_;  // "scope:name" logged as spent this day
};

}  // namespace dropd::pipeline
