#pragma once

// dropd-fake-llm's own rate limits (--rpm, --tpm), enforced the way real
// providers do: over a sliding minute AND over short windows. Pure: time
// comes in as a parameter. Loop thread only (one owner, the FakeLlm).
//
// For each limit L per minute (requests, or tokens as the fake counts them):
//   - sliding minute: the costs admitted in the last 60 s plus this one
//     must not exceed L (a single request costing more than L is admitted
//     only into an empty minute);
//   - short window: a token bucket refilled at L/60 per second holding at
//     most two seconds' worth, max(1, L/30), full at start; a request
//     costing more than that is admitted only when the bucket is full.
// A request must pass both limits of both kinds; a refused request costs
// nothing. The answer says which limit refused it and when the same
// request would pass (Retry-After).
//
// Reported per kind (the x-ratelimit-* headers): limit L; remaining, the
// smaller of what is left in the minute and in the short bucket; reset,
// the time until both windows are fully replenished (as OpenAI's "time
// until the rate limit resets to its initial state").

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dropd/base/clock.hpp"
#include "dropd/net/http_message.hpp"

namespace dropd::fake_llm {

struct RateLimits {
  std::uint64_t rpm = 0;  // 0: no limit
  std::uint64_t tpm = 0;  // 0: no limit
};

struct LimitState {
  std::uint64_t limit = 0;  // 0: not limited, no headers
  std::uint64_t remaining = 0;
  std::chrono::milliseconds reset{0};
};

struct Admission {
  bool allowed = true;
  std::string_view refused_by;  // "requests" or "tokens" when refused
  std::chrono::milliseconds retry_after{0};
  LimitState requests;
  LimitState tokens;
};

// One limit (requests or tokens): the sliding minute and the short bucket.
class LimitWindow {
 public:
  LimitWindow(std::uint64_t per_minute, MonoTime now);
  // How long until `cost` would pass (0: it passes now).
  [[nodiscard]] MonoTime::duration waitFor(std::uint64_t cost, MonoTime now);
  void admit(std::uint64_t cost, MonoTime now);
  [[nodiscard]] LimitState state(MonoTime now);
  [[nodiscard]] std::uint64_t perMinute() const noexcept { return per_minute_; }

 private:
  void advance(MonoTime now);

  std::uint64_t per_minute_;
  double capacity_;
  double level_;
  MonoTime last_;
  std::deque<std::pair<MonoTime, std::uint64_t>> minute_;  // admitted in the last 60 s
  std::uint64_t minute_sum_ = 0;
};

class RateLimiter {
 public:
  RateLimiter(RateLimits limits, MonoTime now);
  // New limits start with fresh windows.
  void setLimits(RateLimits limits, MonoTime now);
  [[nodiscard]] const RateLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] Admission admit(std::uint64_t tokens, MonoTime now);

 private:
  RateLimits limits_;
  LimitWindow requests_;
  LimitWindow tokens_;
};

// "20ms", "1s", "1.5s", "6m0s", "1h2m3.5s": Go's time.Duration format.
[[nodiscard]] std::string formatGoDuration(std::chrono::milliseconds duration);
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} for each limited
// kind, and on a refusal Retry-After (whole seconds, rounded up, >= 1) and
// retry-after-ms.
[[nodiscard]] std::vector<net::Header> rateLimitHeaders(const Admission& admission);

}  // namespace dropd::fake_llm
