#pragma once

// Everything that decides whether one endpoint may get another request now:
// pauses (Retry-After, auth/quota), the circuit breaker, concurrency slots
// (fixed, or AIMD when adaptive), a requests-per-minute bucket and a
// tokens-per-minute bucket. The Dispatcher asks acquire() before each send
// and reports back what happened. Loop thread only; `clock` must outlive it.
// No I/O, no timers: a refusal says when to ask again.
//
// Per request, in this order:
//   Decision d = acquire(estimated_tokens);   // allowed: a slot, 1 request and
//                                             // the estimate are now taken
//   ... send ...
//   onRateLimitHeaders(...), onRetryAfter(...) when the answer carries them
//   onResponse(estimated_tokens, usage.total_tokens)  // corrects the TPM bucket
//   onOutcome(outcome, rtt)                   // breaker, AIMD, pause probe
//   release()                                 // always, once per allowed acquire
//
// Rate-limit headers are hints, never the only control (Azure sends -1, 0
// or nothing). For each of requests and tokens, with R = remaining and
// D = reset:
//   - R absent, unreadable or negative: ignored.
//   - R >= 1: the bucket's level drops to at most R. Headers never add
//     tokens, so a generous or bogus R cannot make us flood.
//   - R == 0 with D > 0: the bucket is emptied and does not refill before
//     now + min(D, max_hint_hold) (default 1 s; D is the time to a *full*
//     reset, much longer than the wait for the next unit).
//   - R == 0 with D absent or 0: ignored; we cannot tell when it ends, and a
//     real exhaustion comes back as a 429 whose Retry-After is honoured.
// A 429 (Outcome::kRateLimited) also empties the requests bucket, so no
// burst follows it.
//
// Retry-After pauses every new send until it has passed, however long it is
// (it is not capped at max_backoff). pauseUntil() (401/403,
// insufficient_quota) pauses until then; after it, single probes go out one
// at a time until one gets an answer that is not kRejected.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dropd/base/clock.hpp"
#include "dropd/throttle/adaptive_concurrency.hpp"
#include "dropd/throttle/circuit_breaker.hpp"
#include "dropd/throttle/outcome.hpp"
#include "dropd/throttle/rate_limit_headers.hpp"
#include "dropd/throttle/token_bucket.hpp"

namespace dropd::throttle {

struct LimiterConfig {
  std::uint32_t max_in_flight = 8;  // at least 1
  BucketConfig requests{};          // per_minute: RPM, 0 = unlimited
  BucketConfig tokens{};            // per_minute: TPM, 0 = unlimited
  bool adaptive = false;            // AIMD within 1..max_in_flight
  AdaptiveConfig aimd{};            // max_limit is replaced by max_in_flight
  BreakerConfig breaker{};
  std::chrono::milliseconds max_hint_hold{1000};  // see "R == 0 with D > 0"
};

enum class BlockedBy { kNone, kPaused, kBreaker, kSlots, kRpm, kTpm };

// "none", "paused", "breaker", "slots", "rpm", "tpm": for status and logs.
[[nodiscard]] std::string_view toString(BlockedBy blocked_by);

struct Decision {
  bool allowed = false;
  BlockedBy blocked_by = BlockedBy::kNone;
  // When refused: when asking again can succeed. nullopt: only after a
  // release() (all slots busy, or a probe is in flight).
  std::optional<MonoTime> retry_at;
};

class EndpointLimiter {
 public:
  EndpointLimiter(LimiterConfig config, const Clock& clock);

  [[nodiscard]] Decision acquire(std::uint64_t estimated_tokens);
  void release();
  void onOutcome(Outcome outcome, std::chrono::nanoseconds rtt);
  // Corrects the TPM bucket: charges or refunds actual - estimated. Without
  // `actual_tokens` (no usage in the answer) the estimate stands.
  void onResponse(std::uint64_t estimated_tokens, std::optional<std::uint64_t> actual_tokens);
  void onRateLimitHeaders(const RateLimitHints& hints);
  void onRetryAfter(std::chrono::milliseconds wait);
  void pauseUntil(MonoTime until, std::string reason);
  // Fleet mode: from now on the RPM and TPM buckets (rate and burst) hold
  // this instance's share of the configured limits, split over `instances`
  // live ones (fleetShare(); 1 = the whole limit, as at construction).
  void shareWith(std::uint32_t instances);

  [[nodiscard]] std::uint32_t inFlight() const noexcept { return in_flight_; }
  [[nodiscard]] std::uint32_t concurrencyLimit() const noexcept;
  [[nodiscard]] bool paused() const;  // by pauseUntil(), including the probe phase
  [[nodiscard]] const std::string& pauseReason() const noexcept { return pause_reason_; }
  [[nodiscard]] const CircuitBreaker& breaker() const noexcept { return breaker_; }
  [[nodiscard]] const TokenBucket& requestBucket() const noexcept { return requests_; }
  [[nodiscard]] const TokenBucket& tokenBucket() const noexcept { return tokens_; }
  // The live instances the limits are split over (1 outside a fleet).
  [[nodiscard]] std::uint32_t sharedWith() const noexcept { return shared_with_; }

 private:
  [[nodiscard]] std::optional<Decision> pausedDecision(MonoTime now) const;
  void applyHint(TokenBucket& bucket, std::optional<std::uint64_t> remaining,
                 std::optional<std::chrono::milliseconds> reset);

  const LimiterConfig config_;
  const Clock& clock_;
  TokenBucket requests_;
  TokenBucket tokens_;
  CircuitBreaker breaker_;
  AdaptiveConcurrency aimd_;
  std::uint32_t in_flight_ = 0;
  std::uint32_t shared_with_ = 1;
  MonoTime retry_after_until_{};
  MonoTime paused_until_{};
  bool auth_paused_ = false;  // set by pauseUntil(), cleared by a good answer
  std::string pause_reason_;
};

}  // namespace dropd::throttle
