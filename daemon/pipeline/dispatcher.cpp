#include "dropd/pipeline/dispatcher.hpp"

#include <algorithm>

#include "dropd/llm/http_llm_client.hpp"
#include "dropd/pipeline/send_estimate.hpp"
#include "dropd/throttle/backoff.hpp"
#include "dropd/uv/check.hpp"

namespace dropd::pipeline {
namespace {

using std::chrono::milliseconds;

RequestSize requestSize(const Job& job) {
  if (job.request_content) {  // a chunk's or a reduce's request (pipeline_chunks.cpp)
    return {job.request_content->tokens, job.request_content->bytes,
            job.body ? job.body->size() : 0};
  }
  return {job.stats ? job.stats->estimated_tokens : 0, job.stats ? job.stats->bytes : 0,
          job.body ? job.body->size() : 0};
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::create(uv_loop_t& loop,
                                                       const config::Endpoint& endpoint,
                                                       const Clock& clock, spdlog::logger& log) {
  auto client = llm::HttpLlmClient::create(loop, endpoint, clock);
  if (!client) {
    return tl::unexpected(client.error());
  }
  return create(loop, endpoint, clock, log, std::move(*client));
}

std::unique_ptr<Dispatcher> Dispatcher::create(uv_loop_t& loop, const config::Endpoint& endpoint,
                                               const Clock& clock, spdlog::logger& log,
                                               std::unique_ptr<llm::Client> client) {
  return std::unique_ptr<Dispatcher>(new Dispatcher(loop, endpoint, clock, log, std::move(client)));
}

Dispatcher::Dispatcher(uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock,
                       spdlog::logger& log, std::unique_ptr<llm::Client> client)
    : loop_(loop),
      endpoint_(endpoint),
      clock_(clock),
      log_(log),
      client_(std::move(client)),
      gate_(loop, endpoint_, clock, log, [this] { pump(); }),
      endpoint_budget_(
          &own_budgets_.at("endpoint:" + endpoint.name, endpoint.budget.tokens_per_day)) {}

Dispatcher::~Dispatcher() { close(); }

void Dispatcher::submit(std::unique_ptr<Job> job, DoneFn done) {
  const std::uint64_t tokens = estimateRequestTokens(requestSize(*job), endpoint_.params);
  enqueue({std::move(job), std::move(done), tokens});
  pump();
}

void Dispatcher::enqueue(Entry entry) {
  entry.job->moveTo(JobState::kWaiting, "waiting for a slot");
  const std::uint64_t id = next_id_++;
  queue_.push(std::to_string(entry.job->pipeline), id);
  queued_.emplace(id, std::move(entry));
}

void Dispatcher::shareLimitsWith(std::uint32_t instances) {
  gate_.shareWith(instances);
  pump();
}

void Dispatcher::pump() {
  while (sending_) {
    if (!next_) {
      const auto item = queue_.pop();
      if (!item) {
        gate_.idle();
        return;
      }
      const auto it = queued_.find(item->id);
      next_.emplace(std::move(it->second));
      queued_.erase(it);
    }
    if (!nextWithinBudgets()) {
      if (next_) {
        return;  // a budget is spent: the next answer or the day's end wakes us
      }
      continue;  // set aside: its pipeline's budget is spent
    }
    if (!gate_.tryAcquire(next_->estimated_tokens)) {
      return;  // the gate wakes us (timer), or the next answer does
    }
    Entry entry = std::move(*next_);
    next_.reset();
    chargeBudgets(entry);
    send(std::move(entry));
  }
}

void Dispatcher::send(Entry entry) {
  Job& job = *entry.job;
  job.moveTo(JobState::kSending, "sending");
  if (job.attempts++ == 0) {
    job.first_sent = clock_.now();
  }
  ++in_flight_;
  log_.debug("llm.sending endpoint={} file={:?} attempt={} in_flight={}", endpoint_.name, job.rel,
             job.attempts, in_flight_);
  // std::function must be copyable, so the move-only Entry rides in a
  // shared_ptr; the callback is its only owner.
  auto holder = std::make_shared<Entry>(std::move(entry));
  client_->send(job.body, [this, holder](llm::Attempt attempt) {
    --in_flight_;
    if (!sending_ && !client_) {
      return;  // closed: the job is dropped, its file stays in the inbox
    }
    onAttempt(std::move(*holder), std::move(attempt));
    pump();
  });
}

void Dispatcher::onAttempt(Entry entry, llm::Attempt attempt) {
  if (attempt.cancelled) {
    gate_.abandon();
    settleBudgets(entry, 0);
    return;
  }
  if (attempt.result && attempt.result->usage_estimated) {
    // A stream without a usage chunk: estimated before the limiter sees it.
    attempt.result->usage = estimateUsage(requestSize(*entry.job), attempt.result->content);
  }
  gate_.onAttemptEnd(entry.estimated_tokens, attempt);
  settleBudgets(entry, attempt.result ? attempt.result->usage.prompt_tokens +
                                            attempt.result->usage.completion_tokens
                                      : 0);
  if (observe_attempt_) {
    observe_attempt_(*entry.job, attempt);
  }
  if (!attempt.result) {
    onFailure(std::move(entry), std::move(attempt.result.error()), attempt.retry_after);
    return;
  }
  onSuccess(std::move(entry), std::move(attempt));
}

void Dispatcher::onSuccess(Entry entry, llm::Attempt attempt) {
  last_success_ = clock_.now();
  if (down_) {
    log_.info("endpoint.recovered endpoint={}", endpoint_.name);
    down_ = false;
  }
  entry.job->latency = std::chrono::duration_cast<milliseconds>(attempt.latency);
  entry.job->completion = std::move(*attempt.result);
  finish(std::move(entry));
}

void Dispatcher::onFailure(Entry entry, llm::Failure failure,
                           std::optional<milliseconds> retry_after) {
  Job& job = *entry.job;
  if (!sending_ && failure.cls != llm::FailureClass::kFailFile) {
    return;  // draining: no retries; the job is dropped and its file stays in the inbox
  }
  log_.debug("llm.attempt_failed endpoint={} file={:?} attempt={} error={:?}", endpoint_.name,
             job.rel, job.attempts, failure.message);
  if (failure.cls == llm::FailureClass::kFailFile) {
    job.failure = std::move(failure);
    finish(std::move(entry));
    return;
  }
  if (failure.cls == llm::FailureClass::kPauseEndpoint) {
    --job.attempts;  // not the file's fault; the gate has paused the endpoint
    enqueue(std::move(entry));
    return;
  }
  if (job.attempts >= endpoint_.retry.max_attempts) {
    // Out of attempts: if other requests succeeded meanwhile, the trouble is
    // this file's; if nothing succeeds, the endpoint is down and the file
    // waits for it rather than failing (docs/architecture.md, rules).
    // An empty answer came from a server that answered: it is not down, so
    // the file fails (llm/status_class.hpp).
    const bool answered = failure.kind == llm::FailureKind::kEmptyAnswer;
    if (answered || last_success_ > job.first_sent) {
      job.failure = std::move(failure);
      finish(std::move(entry));
      return;
    }
    if (!down_) {
      log_.warn("endpoint.down endpoint={} error={:?} files_waiting={}", endpoint_.name,
                failure.message, waiting() + backoff_.size() + 1);
      down_ = true;
    }
  }
  retryLater(std::move(entry), retry_after);
}

void Dispatcher::retryLater(Entry entry, std::optional<milliseconds> retry_after) {
  entry.job->moveTo(JobState::kBackoff, "retryable failure");
  const std::uint32_t retry = std::min(entry.job->attempts, endpoint_.retry.max_attempts);
  const milliseconds delay =
      throttle::backoffDelay({endpoint_.retry.initial_backoff, endpoint_.retry.max_backoff}, retry,
                             std::uniform_real_distribution<double>(0.0, 1.0)(rng_), retry_after);
  auto timer = uv::Timer::create(loop_);
  DROPD_CHECK(timer.has_value(), "backoff timer");
  backoff_.push_back({std::move(entry), std::move(*timer), clock_.now() + delay});
  const auto it = std::prev(backoff_.end());
  const Status started = it->timer.start(delay, [this, it] {
    Entry again = std::move(it->entry);
    backoff_.erase(it);  // destroys the Timer whose callback this is: allowed
    enqueue(std::move(again));
    pump();
  });
  DROPD_CHECK(started.has_value(), "backoff timer start");
}

std::optional<MonoTime> Dispatcher::backoffUntil(std::string_view pipeline,
                                                 std::string_view rel) const {
  for (const Backoff& b : backoff_) {
    if (b.entry.job->pipeline_name == pipeline && b.entry.job->rel == rel) {
      return b.due;
    }
  }
  return std::nullopt;
}

void Dispatcher::finish(Entry entry) {
  entry.job->body.reset();  // the biggest part of a job: gone before the record is written
  DoneFn done = std::move(entry.done);
  done(std::move(entry.job));
}

std::vector<Claims::Key> Dispatcher::stopSending() {
  std::vector<Claims::Key> claimed;
  const auto note = [&claimed](const Entry& e) {
    if (e.job && e.job->claimed) {
      claimed.push_back({e.job->pipeline_name, e.job->rel, e.job->claimed_as});
    }
  };
  for (const auto& [_, e] : queued_) {
    note(e);
  }
  if (next_) {
    note(*next_);
  }
  for (const Backoff& b : backoff_) {
    note(b.entry);
  }
  for (const Entry& e : parked_) {
    note(e);
  }
  sending_ = false;
  queue_ = throttle::FairQueue{};
  queued_.clear();
  next_.reset();
  backoff_.clear();
  parked_.clear();
  budget_timer_.reset();
  return claimed;
}

void Dispatcher::close() {
  (void)stopSending();  // after stopSending(): nothing is left to give back
  gate_.close();
  if (client_) {
    auto client = std::move(client_);  // callbacks see client_ == null and drop their jobs
    client->close();
  }
}

}  // namespace dropd::pipeline
