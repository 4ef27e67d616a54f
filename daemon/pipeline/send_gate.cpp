#include "dropd/pipeline/send_gate.hpp"

#include <algorithm>

#include "dropd/uv/check.hpp"

namespace dropd::pipeline {
namespace {

using std::chrono::milliseconds;
using throttle::BlockedBy;
using throttle::Outcome;

constexpr std::uint32_t kBreakerFailures = 5;

// Reasons for endpoint.rate_limited, as bits of SendGate::rate_limit_logged_.
constexpr unsigned kReasonRpm = 1;
constexpr unsigned kReasonTpm = 2;
constexpr unsigned kReasonServer = 4;

// Rounded up, so a timer never fires before the refusal has run out (which
// would spin the loop on 0 ms timers).
milliseconds ceilMs(MonoTime::duration d) {
  const auto ms = std::chrono::ceil<milliseconds>(d);
  return std::max(ms, milliseconds(1));
}

}  // namespace

throttle::LimiterConfig limiterConfig(const config::Endpoint& endpoint) {
  throttle::LimiterConfig out;
  out.max_in_flight = std::max<std::uint32_t>(endpoint.limits.max_in_flight, 1);
  out.requests.per_minute = static_cast<double>(endpoint.limits.requests_per_minute);
  out.tokens.per_minute = static_cast<double>(endpoint.limits.tokens_per_minute);
  out.adaptive = endpoint.limits.adaptive;
  out.aimd.initial_limit = out.adaptive ? 1 : out.max_in_flight;
  out.breaker.failure_threshold = kBreakerFailures;
  out.breaker.initial_backoff = endpoint.retry.initial_backoff;
  out.breaker.max_backoff = endpoint.retry.max_backoff;
  return out;
}

SendGate::SendGate(uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock,
                   spdlog::logger& log, WakeFn wake)
    : name_(endpoint.name),
      pause_for_(endpoint.retry.max_backoff),
      limits_(endpoint.limits),
      clock_(clock),
      log_(log),
      wake_(std::move(wake)),
      limiter_(limiterConfig(endpoint), clock),
      timer_(*uv::Timer::create(loop)) {}

bool SendGate::tryAcquire(std::uint64_t estimated_tokens) {
  const throttle::Decision d = limiter_.acquire(estimated_tokens);
  const MonoTime now = clock_.now();
  last_refusal_ = d.allowed ? throttle::Decision{} : d;
  if (d.allowed) {
    endThrottleWait(now);
    return true;
  }
  if (!d.retry_at) {
    // All slots busy or a probe out: an answer will come and the caller asks
    // again then. That is concurrency, not throttling.
    if (d.blocked_by == BlockedBy::kSlots) {
      endThrottleWait(now);
    }
    return false;
  }
  if (!throttle_wait_since_) {
    throttle_wait_since_ = now;
  }
  noteRefusal(d.blocked_by);
  waitUntil(*d.retry_at);
  return false;
}

void SendGate::waitUntil(MonoTime at) {
  const Status started = timer_.start(ceilMs(at - clock_.now()), [this] { wake_(); });
  DROPD_CHECK(started.has_value(), "send gate timer start");
}

void SendGate::endThrottleWait(MonoTime now) {
  if (throttle_wait_since_) {
    throttle_wait_total_ += now - *throttle_wait_since_;
    throttle_wait_since_.reset();
  }
}

void SendGate::idle() {
  last_refusal_ = {};
  endThrottleWait(clock_.now());
  if (rate_limit_logged_ != 0) {
    log_.debug("endpoint.rate_limit_spell_over endpoint={}", name_);
  }
  rate_limit_logged_ = 0;
}

MonoTime::duration SendGate::throttleWaitTotal() const {
  return throttle_wait_total_ +
         (throttle_wait_since_ ? clock_.now() - *throttle_wait_since_ : MonoTime::duration{0});
}

std::optional<MonoTime> SendGate::pausedUntil() const {
  return limiter_.paused() ? paused_until_ : std::nullopt;
}

void SendGate::noteRefusal(BlockedBy blocked_by) {
  const unsigned bit = blocked_by == BlockedBy::kRpm   ? kReasonRpm
                       : blocked_by == BlockedBy::kTpm ? kReasonTpm
                                                       : 0;
  if (bit == 0 || (rate_limit_logged_ & bit) != 0) {
    return;  // pauses and the breaker log when they start, not per refusal
  }
  rate_limit_logged_ |= bit;
  log_.info("endpoint.rate_limited endpoint={} reason={} limit_per_minute={}", name_,
            throttle::toString(blocked_by),
            bit == kReasonRpm ? limits_.requests_per_minute : limits_.tokens_per_minute);
}

void SendGate::noteRateLimited(std::string_view reason, std::optional<milliseconds> wait) {
  if ((rate_limit_logged_ & kReasonServer) != 0) {
    return;
  }
  rate_limit_logged_ |= kReasonServer;
  log_.warn("endpoint.rate_limited endpoint={} reason={:?} retry_after_ms={}", name_, reason,
            wait ? wait->count() : -1);
}

void SendGate::applyHints(const llm::Attempt& attempt) {
  if (attempt.retry_after) {
    limiter_.onRetryAfter(*attempt.retry_after);
  }
  limiter_.onRateLimitHeaders(attempt.rate_limits);
}

void SendGate::onAttemptEnd(std::uint64_t estimated_tokens, const llm::Attempt& attempt) {
  applyHints(attempt);
  if (attempt.result) {
    const llm::Usage& usage = attempt.result->usage;
    const std::uint64_t total = usage.prompt_tokens + usage.completion_tokens;
    limiter_.onResponse(estimated_tokens,
                        total > 0 ? std::optional<std::uint64_t>(total) : std::nullopt);
  }
  const std::string message = attempt.result ? std::string() : attempt.result.error().message;
  const bool was_paused = limiter_.paused();
  limiter_.onOutcome(attempt.outcome, attempt.latency);
  if (attempt.outcome == Outcome::kRejected) {
    notePause(message);
  } else if (attempt.outcome == Outcome::kRateLimited) {
    noteRateLimited(message, attempt.retry_after);
  }
  if (!attempt.result) {
    last_error_ = message;
  }
  noteStateAfterAnswer(was_paused);
  limiter_.release();
}

void SendGate::notePause(const std::string& reason) {
  const bool first = !limiter_.paused();
  paused_until_ = clock_.now() + pause_for_;
  limiter_.pauseUntil(*paused_until_, reason);
  if (first) {
    log_.warn("endpoint.paused endpoint={} reason={:?} retry_in_ms={}", name_, reason,
              pause_for_.count());
  } else {
    log_.debug("endpoint.still_paused endpoint={} retry_in_ms={}", name_, pause_for_.count());
  }
}

void SendGate::noteStateAfterAnswer(bool was_paused) {
  if (was_paused && !limiter_.paused()) {
    paused_until_.reset();
    log_.info("endpoint.resumed endpoint={}", name_);
  }
  const throttle::CircuitBreaker& breaker = limiter_.breaker();
  const bool open = breaker.state() != throttle::BreakerState::kClosed;
  if (open && !breaker_open_) {
    const auto probe_in = breaker.nextProbeAt().value_or(clock_.now()) - clock_.now();
    log_.warn("endpoint.breaker_open endpoint={} failures={} probe_in_ms={}", name_,
              breaker.consecutiveFailures(),
              std::chrono::duration_cast<milliseconds>(probe_in).count());
  } else if (!open && breaker_open_) {
    log_.info("endpoint.breaker_closed endpoint={}", name_);
  }
  breaker_open_ = open;
}

void SendGate::abandon() { limiter_.release(); }

void SendGate::close() { timer_.close(); }

}  // namespace dropd::pipeline
