#include "dropd/pipeline/dispatcher.hpp"

#include <algorithm>

#include "dropd/llm/response.hpp"
#include "dropd/throttle/backoff.hpp"
#include "dropd/uv/check.hpp"
#include "dropd/version.hpp"

namespace dropd::pipeline {
namespace {

using std::chrono::milliseconds;

net::ClientOptions clientOptions(const config::Endpoint& endpoint) {
  net::ClientOptions options;
  options.connect_timeout = endpoint.timeouts.connect;
  options.request_timeout = endpoint.timeouts.request;
  options.idle_timeout = endpoint.timeouts.idle;
  options.max_connections = endpoint.limits.max_in_flight;
  options.tls.verify = endpoint.tls.verify;
  options.tls.ca_file = endpoint.tls.ca_file.string();
  return options;
}

// A failed exchange without an HTTP answer: timeouts and network errors are
// the endpoint's trouble, so they are retried.
llm::Failure transportFailure(const Error& error) {
  const bool timeout = error.code == ErrorCode::kTimeout;
  return {llm::FailureClass::kRetry, timeout ? "timeout" : "network", 0, error.message()};
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::create(uv_loop_t& loop,
                                                       const config::Endpoint& endpoint,
                                                       const Clock& clock, spdlog::logger& log) {
  std::unique_ptr<Dispatcher> d(new Dispatcher(loop, endpoint, clock, log));
  auto url = net::Url::parse(endpoint.url.text);
  if (!url) {
    return tl::unexpected(url.error());
  }
  auto client = net::HttpClient::create(loop, *url, clientOptions(endpoint));
  if (!client) {
    return tl::unexpected(client.error());
  }
  d->client_ = std::move(*client);
  return d;
}

Dispatcher::Dispatcher(uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock,
                       spdlog::logger& log)
    : loop_(loop),
      endpoint_(endpoint),
      clock_(clock),
      log_(log),
      pause_timer_(*uv::Timer::create(loop)) {}

Dispatcher::~Dispatcher() { close(); }

std::size_t Dispatcher::readAhead() const {
  return std::max<std::size_t>(2, endpoint_.limits.max_in_flight / 4);
}

bool Dispatcher::roomForRead() const {
  return sending_ && held() < endpoint_.limits.max_in_flight + readAhead();
}

void Dispatcher::readEnded() {
  --reading_;
  notifyRoom();
}

void Dispatcher::addRoomListener(std::function<void()> listener) {
  room_listeners_.push_back(std::move(listener));
}

void Dispatcher::notifyRoom() {
  for (std::size_t i = 0; i < room_listeners_.size() && roomForRead(); ++i) {
    room_listeners_[i]();
  }
}

void Dispatcher::submit(std::unique_ptr<Job> job, DoneFn done) {
  job->state = JobState::kWaiting;
  waiting_.push_back({std::move(job), std::move(done)});
  pump();
}

void Dispatcher::pump() {
  while (sending_ && !paused_ && !waiting_.empty() && in_flight_ < endpoint_.limits.max_in_flight) {
    Entry entry = std::move(waiting_.front());
    waiting_.pop_front();
    send(std::move(entry));
  }
}

net::HttpRequest Dispatcher::requestFor(const Job& job) const {
  net::HttpRequest req;
  req.method = "POST";
  req.target = endpoint_.url.target;
  req.headers = {{"Content-Type", "application/json"},
                 {"Accept", "application/json"},
                 {"User-Agent", std::string("dropd/") + kVersion}};
  if (endpoint_.api_key) {
    req.headers.push_back({"Authorization", "Bearer " + endpoint_.api_key->reveal()});
  }
  for (const auto& [name, value] : endpoint_.headers) {
    req.headers.push_back({name, value});
  }
  req.shared_body = job.body;  // shared, not copied: a retry sends the same bytes
  return req;
}

void Dispatcher::send(Entry entry) {
  Job& job = *entry.job;
  job.state = JobState::kSending;
  if (job.attempts++ == 0) {
    job.first_sent = clock_.now();
  }
  ++in_flight_;
  const MonoTime started = clock_.now();
  auto holder = std::make_shared<Entry>(std::move(entry));
  client_->send(requestFor(job), [this, holder, started](Result<net::HttpResponse> answer) {
    --in_flight_;
    if (!sending_ && !client_) {
      return;  // closed: the job is dropped, its file stays in the inbox
    }
    onAnswer(std::move(*holder), std::move(answer), started);
    pump();
  });
}

void Dispatcher::onAnswer(Entry entry, Result<net::HttpResponse> answer, MonoTime started) {
  if (!answer) {
    if (answer.error().code == ErrorCode::kCancelled) {
      return;
    }
    onFailure(std::move(entry), transportFailure(answer.error()), nullptr);
    return;
  }
  auto parsed = llm::parseResponse(answer->status, answer->body);
  if (!parsed) {
    onFailure(std::move(entry), std::move(parsed.error()), &*answer);
    return;
  }
  last_success_ = clock_.now();
  if (paused_ || down_) {
    log_.info("endpoint.recovered endpoint={}", endpoint_.name);
    down_ = false;
  }
  entry.job->latency = std::chrono::duration_cast<milliseconds>(clock_.now() - started);
  entry.job->completion = std::move(*parsed);
  finish(std::move(entry));
}

void Dispatcher::onFailure(Entry entry, llm::Failure failure, const net::HttpResponse* response) {
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
    --job.attempts;  // not the file's fault
    pause(failure);
    waiting_.push_front(std::move(entry));
    return;
  }
  std::optional<milliseconds> retry_after;
  if (response != nullptr) {
    if (const std::string* value = response->header("Retry-After")) {
      retry_after = throttle::parseRetryAfterSeconds(*value);
    }
  }
  if (job.attempts >= endpoint_.retry.max_attempts) {
    // Out of attempts: if other requests succeeded meanwhile, the trouble is
    // this file's; if nothing succeeds, the endpoint is down and the file
    // waits for it rather than failing (ARCHITECTURE.md, rules).
    if (last_success_ > job.first_sent) {
      job.failure = std::move(failure);
      finish(std::move(entry));
      return;
    }
    if (!down_) {
      log_.warn("endpoint.down endpoint={} error={:?} files_waiting={}", endpoint_.name,
                failure.message, waiting_.size() + backoff_.size() + 1);
      down_ = true;
    }
  }
  retryLater(std::move(entry), retry_after);
}

void Dispatcher::retryLater(Entry entry, std::optional<milliseconds> retry_after) {
  entry.job->state = JobState::kBackoff;
  const std::uint32_t retry = std::min(entry.job->attempts, endpoint_.retry.max_attempts);
  const milliseconds delay =
      throttle::backoffDelay({endpoint_.retry.initial_backoff, endpoint_.retry.max_backoff}, retry,
                             std::uniform_real_distribution<double>(0.0, 1.0)(rng_), retry_after);
  auto timer = uv::Timer::create(loop_);
  DROPD_CHECK(timer.has_value(), "backoff timer");
  backoff_.push_back({std::move(entry), std::move(*timer)});
  const auto it = std::prev(backoff_.end());
  const Status started = it->timer.start(delay, [this, it] {
    Entry again = std::move(it->entry);
    backoff_.erase(it);  // destroys the Timer whose callback this is: allowed
    again.job->state = JobState::kWaiting;
    waiting_.push_front(std::move(again));
    pump();
  });
  DROPD_CHECK(started.has_value(), "backoff timer start");
}

void Dispatcher::pause(const llm::Failure& failure) {
  if (paused_) {
    return;
  }
  paused_ = true;
  const milliseconds pause_for = endpoint_.retry.max_backoff;
  log_.warn("endpoint.paused endpoint={} reason={:?} retry_in_ms={}", endpoint_.name,
            failure.message, pause_for.count());
  const Status started = pause_timer_.start(pause_for, [this] {
    paused_ = false;
    pump();
  });
  DROPD_CHECK(started.has_value(), "pause timer start");
}

void Dispatcher::finish(Entry entry) {
  entry.job->body.reset();  // the biggest part of a job: gone before the record is written
  DoneFn done = std::move(entry.done);
  done(std::move(entry.job));
  notifyRoom();
}

void Dispatcher::stopSending() {
  sending_ = false;
  waiting_.clear();
  backoff_.clear();
}

void Dispatcher::close() {
  stopSending();
  pause_timer_.close();
  if (client_) {
    auto client = std::move(client_);  // callbacks see client_ == null and drop their jobs
    client->close();
  }
}

}  // namespace dropd::pipeline
