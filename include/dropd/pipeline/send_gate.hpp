#pragma once

// The throttle between a Dispatcher's queue and the wire, one per endpoint.
// It wraps throttle::EndpointLimiter (concurrency slots or AIMD, RPM and
// TPM buckets, Retry-After, auth pause, circuit breaker) with what the pure
// limiter leaves out: the one uv timer that wakes the Dispatcher when a
// time-based refusal runs out, feeding each llm::Attempt (its outcome,
// latency, usage, and the Retry-After and rate-limit hints the client read
// from the answer) back into the limiter, and logging the endpoint's state
// changes once each (never per request at info). It sees no HTTP. Loop
// thread only; `clock` and `log` must outlive it.
//
// Per request:
//   if (gate.tryAcquire(tokens)) { send; ...; gate.onAttemptEnd(tokens, attempt); }
//   else: `wake` runs when asking again can succeed. A refusal with a time
//   (rpm, tpm, Retry-After, pause, open breaker) arms the timer; one without
//   (all slots busy, a probe out) waits for the next onAttemptEnd(), after
//   which the Dispatcher asks again anyway.
//
// Log events: endpoint.rate_limited (reason rpm/tpm: our own limit paces
// sending, info; reason 429: the server pushed back, warn; once per busy
// spell, which ends when the queue empties), endpoint.paused (401/403/quota,
// warn) and endpoint.resumed, endpoint.breaker_open (warn) and
// endpoint.breaker_closed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/llm/attempt.hpp"
#include "dropd/throttle/endpoint_limiter.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

// The limiter's settings for an endpoint: its limits, and a breaker that
// opens after 5 consecutive failures and probes after the retry policy's
// initial_backoff, doubling up to max_backoff.
[[nodiscard]] throttle::LimiterConfig limiterConfig(const config::Endpoint& endpoint);

class SendGate {
 public:
  using WakeFn = std::function<void()>;

  SendGate(uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock,
           spdlog::logger& log, WakeFn wake);

  // True: a slot, one request and `estimated_tokens` are taken; the caller
  // sends and later calls onAttemptEnd() (or abandon()). False: see above.
  [[nodiscard]] bool tryAcquire(std::uint64_t estimated_tokens);
  // The queue is empty: a throttle wait and a rate-limit spell end here.
  void idle();

  // One attempt that tryAcquire(estimated_tokens) let go has ended, and its
  // slot is released. Everything the limiter learns comes from `attempt`:
  // its Retry-After and rate-limit hints, the completion's usage (which
  // corrects the TPM charge), its outcome and latency, and a failure's
  // message (lastError(), and the reason an auth pause logs).
  void onAttemptEnd(std::uint64_t estimated_tokens, const llm::Attempt& attempt);
  // The attempt was cancelled (shutdown): releases its slot, nothing else.
  void abandon();
  void close();
  // Fleet mode: the endpoint's RPM and TPM limits are split over
  // `instances` live ones from now on (EndpointLimiter::shareWith).
  void shareWith(std::uint32_t instances) { limiter_.shareWith(instances); }

  [[nodiscard]] std::uint32_t concurrencyLimit() const { return limiter_.concurrencyLimit(); }
  // While paused by 401/403/insufficient_quota: when the next probe may go.
  [[nodiscard]] std::optional<MonoTime> pausedUntil() const;
  // The last failed attempt's message (empty until one fails).
  [[nodiscard]] const std::string& lastError() const noexcept { return last_error_; }
  // How long the head of the queue has waited for rpm, tpm, Retry-After, a
  // pause or the breaker, in all (waits for a free slot are not counted).
  [[nodiscard]] MonoTime::duration throttleWaitTotal() const;
  [[nodiscard]] const throttle::EndpointLimiter& limiter() const noexcept { return limiter_; }
  // Why the last tryAcquire() said no, and when asking again can succeed
  // (nullopt: after an answer); kNone once one was let go or the queue
  // emptied. For status ("what is this file waiting on").
  [[nodiscard]] const throttle::Decision& lastRefusal() const noexcept { return last_refusal_; }

 private:
  void waitUntil(MonoTime at);
  void endThrottleWait(MonoTime now);
  void applyHints(const llm::Attempt& attempt);
  void noteRefusal(throttle::BlockedBy blocked_by);
  void noteRateLimited(std::string_view reason, std::optional<std::chrono::milliseconds> wait);
  void notePause(const std::string& reason);
  void noteStateAfterAnswer(bool was_paused);

  const std::string name_;                     // the endpoint's, for logs
  const std::chrono::milliseconds pause_for_;  // retry.max_backoff: one auth pause
  const config::Limits limits_;
  const Clock& clock_;
  spdlog::logger& log_;
  const WakeFn wake_;
  throttle::EndpointLimiter limiter_;
  uv::Timer timer_;  // the one wake-up for time-based refusals
  std::optional<MonoTime> paused_until_;
  std::optional<MonoTime> throttle_wait_since_;
  MonoTime::duration throttle_wait_total_{0};
  std::string last_error_;
  throttle::Decision last_refusal_{};
  unsigned rate_limit_logged_ = 0;  // bits: reasons already logged this busy spell
  bool breaker_open_ = false;
};

}  // namespace dropd::pipeline
