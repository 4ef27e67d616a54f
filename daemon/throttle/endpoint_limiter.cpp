#include "dropd/throttle/endpoint_limiter.hpp"

#include <algorithm>
#include <utility>

#include "dropd/throttle/fleet_share.hpp"

namespace dropd::throttle {

namespace {

AdaptiveConfig aimdConfig(const LimiterConfig& config) {
  AdaptiveConfig aimd = config.aimd;
  aimd.max_limit = std::max<std::uint32_t>(config.max_in_flight, 1);
  return aimd;
}

Decision refuse(BlockedBy blocked_by, std::optional<MonoTime> retry_at) {
  return {false, blocked_by, retry_at};
}

}  // namespace

std::string_view toString(BlockedBy blocked_by) {
  switch (blocked_by) {
    case BlockedBy::kNone:
      return "none";
    case BlockedBy::kPaused:
      return "paused";
    case BlockedBy::kBreaker:
      return "breaker";
    case BlockedBy::kSlots:
      return "slots";
    case BlockedBy::kRpm:
      return "rpm";
    case BlockedBy::kTpm:
      return "tpm";
  }
  return "none";
}

EndpointLimiter::EndpointLimiter(LimiterConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      requests_(config_.requests, clock),
      tokens_(config_.tokens, clock),
      breaker_(config_.breaker, clock),
      aimd_(aimdConfig(config_), clock) {}

std::uint32_t EndpointLimiter::concurrencyLimit() const noexcept {
  const std::uint32_t max = std::max<std::uint32_t>(config_.max_in_flight, 1);
  return config_.adaptive ? std::min(aimd_.limit(), max) : max;
}

bool EndpointLimiter::paused() const { return auth_paused_; }

std::optional<Decision> EndpointLimiter::pausedDecision(MonoTime now) const {
  if (now < retry_after_until_) {
    return refuse(BlockedBy::kPaused, retry_after_until_);
  }
  if (!auth_paused_) {
    return std::nullopt;
  }
  if (now < paused_until_) {
    return refuse(BlockedBy::kPaused, paused_until_);
  }
  // Probe phase: one request at a time until an answer clears the pause.
  if (in_flight_ > 0) {
    return refuse(BlockedBy::kPaused, std::nullopt);
  }
  return std::nullopt;
}

Decision EndpointLimiter::acquire(std::uint64_t estimated_tokens) {
  const MonoTime now = clock_.now();
  if (auto paused = pausedDecision(now)) {
    return *paused;
  }
  if (!breaker_.wouldAllow()) {
    // Open: the probe time. Half-open: the probe is out, wait for it.
    return refuse(BlockedBy::kBreaker,
                  breaker_.state() == BreakerState::kOpen ? breaker_.nextProbeAt() : std::nullopt);
  }
  if (in_flight_ >= concurrencyLimit()) {
    return refuse(BlockedBy::kSlots, std::nullopt);
  }
  // Check both buckets before taking from either, so a refusal takes nothing.
  // Each answer is compared with a clock read after it: a bucket that can
  // give now answers with its own reading of now, which a real clock puts
  // after any reading taken earlier in this call.
  if (const MonoTime at = requests_.availableAt(1); at > clock_.now()) {
    return refuse(BlockedBy::kRpm, at);
  }
  if (const MonoTime at = tokens_.availableAt(estimated_tokens); at > clock_.now()) {
    return refuse(BlockedBy::kTpm, at);
  }
  (void)breaker_.allowRequest();  // takes the probe when half-open
  requests_.charge(1);
  tokens_.charge(estimated_tokens);
  ++in_flight_;
  aimd_.onRequestStart(in_flight_);
  return {true, BlockedBy::kNone, std::nullopt};
}

void EndpointLimiter::release() {
  if (in_flight_ > 0) {
    --in_flight_;
  }
}

void EndpointLimiter::onOutcome(Outcome outcome, std::chrono::nanoseconds rtt) {
  switch (outcome) {
    case Outcome::kSuccess:
      breaker_.onSuccess();
      aimd_.onResponse(rtt, false);
      auth_paused_ = false;
      pause_reason_.clear();
      break;
    case Outcome::kClientError:
      breaker_.onSuccess();
      auth_paused_ = false;  // the credentials were accepted
      pause_reason_.clear();
      break;
    case Outcome::kRateLimited:
      breaker_.onSuccess();  // a healthy server that wants less
      aimd_.onResponse(rtt, true);
      requests_.limitTo(0, clock_.now());
      break;
    case Outcome::kOverloaded:
    case Outcome::kServerError:
      breaker_.onFailure();
      aimd_.onResponse(rtt, true);
      break;
    case Outcome::kNetworkError:
      breaker_.onFailure();
      break;
    case Outcome::kRejected:
      // Neither healthy nor unhealthy: the caller pauses us. A breaker probe
      // that got this answer is over without a verdict.
      breaker_.onProbeAbandoned();
      break;
  }
}

void EndpointLimiter::onResponse(std::uint64_t estimated_tokens,
                                 std::optional<std::uint64_t> actual_tokens) {
  if (!actual_tokens) {
    return;
  }
  if (*actual_tokens > estimated_tokens) {
    tokens_.charge(*actual_tokens - estimated_tokens);
  } else {
    tokens_.refund(estimated_tokens - *actual_tokens);
  }
}

void EndpointLimiter::applyHint(TokenBucket& bucket, std::optional<std::uint64_t> remaining,
                                std::optional<std::chrono::milliseconds> reset) {
  if (!remaining) {
    return;
  }
  const MonoTime now = clock_.now();
  if (*remaining >= 1) {
    bucket.limitTo(*remaining, now);
    return;
  }
  if (!reset || reset->count() <= 0) {
    return;  // "0 left" with no end in sight: Azure's junk, not a reason to stall
  }
  bucket.limitTo(0, now + std::min(*reset, config_.max_hint_hold));
}

void EndpointLimiter::onRateLimitHeaders(const RateLimitHints& hints) {
  applyHint(requests_, hints.remaining_requests, hints.reset_requests);
  applyHint(tokens_, hints.remaining_tokens, hints.reset_tokens);
}

void EndpointLimiter::onRetryAfter(std::chrono::milliseconds wait) {
  if (wait.count() <= 0) {
    return;
  }
  retry_after_until_ = std::max(retry_after_until_, clock_.now() + wait);
}

void EndpointLimiter::pauseUntil(MonoTime until, std::string reason) {
  auth_paused_ = true;
  paused_until_ = until;
  pause_reason_ = std::move(reason);
}

void EndpointLimiter::shareWith(std::uint32_t instances) {
  shared_with_ = std::max<std::uint32_t>(instances, 1);
  for (auto [bucket, config] :
       {std::pair{&requests_, &config_.requests}, std::pair{&tokens_, &config_.tokens}}) {
    bucket->reconfigure(
        {fleetShare(config->per_minute, shared_with_), fleetShare(config->burst, shared_with_)});
  }
}

}  // namespace dropd::throttle
