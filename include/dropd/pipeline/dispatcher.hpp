#pragma once

// One per endpoint: sends jobs' requests with at most limits.max_in_flight in
// flight, retries what may succeed later (backoff with jitter, Retry-After),
// pauses the endpoint on auth and quota errors (files wait, none fail), and
// hands each finished job back with job.completion or job.failure set.
//
// It also bounds memory: pipelines ask roomForRead() before reading a file,
// so at most max_in_flight + readAhead() request bodies exist per endpoint,
// whatever the backlog. Loop thread only.

#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <random>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/config/config.hpp"
#include "dropd/net/http_client.hpp"
#include "dropd/pipeline/job.hpp"
#include "dropd/uv/clock.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

class Dispatcher {
 public:
  using DoneFn = std::function<void(std::unique_ptr<Job>)>;

  [[nodiscard]] static Result<std::unique_ptr<Dispatcher>> create(uv_loop_t& loop,
                                                                  const config::Endpoint& endpoint,
                                                                  const Clock& clock,
                                                                  spdlog::logger& log);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Read-ahead accounting: a pipeline calls readStarted() before reading a
  // file for this endpoint and readEnded() when that read is over (whether
  // or not the job is then submitted).
  [[nodiscard]] bool roomForRead() const;
  void readStarted() { ++reading_; }
  void readEnded();
  [[nodiscard]] std::size_t readAhead() const;

  // `job.body` is set. `done` runs once, later, on the loop thread.
  void submit(std::unique_ptr<Job> job, DoneFn done);
  // Called whenever room for a read frees up.
  void addRoomListener(std::function<void()> listener);

  // Shutdown: nothing new is sent; in-flight requests may finish. Jobs that
  // were waiting are dropped (their files stay in the inbox).
  void stopSending();
  // Cancels in-flight requests too (their jobs are dropped).
  void close();

  [[nodiscard]] std::size_t inFlight() const { return in_flight_; }
  [[nodiscard]] std::size_t held() const {
    return reading_ + waiting_.size() + in_flight_ + backoff_.size();
  }
  [[nodiscard]] const std::string& name() const { return endpoint_.name; }

 private:
  struct Entry {
    std::unique_ptr<Job> job;
    DoneFn done;
  };
  struct Backoff {
    Entry entry;
    uv::Timer timer;
  };

  Dispatcher(uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock,
             spdlog::logger& log);
  void pump();
  void send(Entry entry);
  void onAnswer(Entry entry, Result<net::HttpResponse> answer, MonoTime started);
  void onFailure(Entry entry, llm::Failure failure, const net::HttpResponse* response);
  void retryLater(Entry entry, std::optional<std::chrono::milliseconds> retry_after);
  void pause(const llm::Failure& failure);
  void finish(Entry entry);
  void notifyRoom();
  [[nodiscard]] net::HttpRequest requestFor(const Job& job) const;

  uv_loop_t& loop_;
  const config::Endpoint endpoint_;
  const Clock& clock_;
  spdlog::logger& log_;
  std::unique_ptr<net::HttpClient> client_;
  uv::Timer pause_timer_;
  std::deque<Entry> waiting_;
  std::list<Backoff> backoff_;
  std::vector<std::function<void()>> room_listeners_;
  std::size_t reading_ = 0;
  std::size_t in_flight_ = 0;
  MonoTime last_success_{};
  bool paused_ = false;
  bool down_ = false;  // every attempt fails and nothing succeeded: logged once
  bool sending_ = true;
  std::mt19937_64 rng_{0x5eed};
};

}  // namespace dropd::pipeline
