#pragma once

// Reading what a server says about its limits: Retry-After (both forms),
// retry-after-ms, and the OpenAI x-ratelimit-* headers. Pure and total:
// every input, including junk, gives a defined answer; nullopt means "the
// server said nothing usable", never "wait forever". Any thread.
//
// The values are hints. EndpointLimiter documents how it uses them; this
// file only turns header text into numbers.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dropd/base/clock.hpp"

namespace dropd::throttle {

// Longest wait any header may ask for; anything longer is treated as junk.
inline constexpr std::chrono::milliseconds kMaxHeaderWait = std::chrono::hours(24 * 7);

// Retry-After as delta-seconds ("120", "1.5") or an IMF-fixdate HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now_wall`. A date in the
// past gives 0. Fractions of a millisecond round up.
[[nodiscard]] std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                                       WallTime now_wall);

// retry-after-ms: milliseconds, fractions allowed ("1500", "20.5").
[[nodiscard]] std::optional<std::chrono::milliseconds> parseRetryAfterMs(std::string_view value);

// The wait a response asks for, preferring retry-after-ms over Retry-After
// (as the OpenAI SDK does). Pass nullopt for a header that is absent.
[[nodiscard]] std::optional<std::chrono::milliseconds> pickRetryAfter(
    std::optional<std::string_view> retry_after_ms, std::optional<std::string_view> retry_after,
    WallTime now_wall);

// IMF-fixdate only (RFC 9110 5.6.7); the obsolete RFC 850 and asctime forms
// give nullopt.
[[nodiscard]] std::optional<WallTime> parseHttpDate(std::string_view value);

// x-ratelimit-reset-*: a Go duration ("6m0s", "1s", "20ms", "1h2m3.5s",
// "0.5s"; units h, m, s, ms, us, µs, ns). A bare number is read as seconds,
// which some compatible servers send. Fractions of a millisecond round up.
[[nodiscard]] std::optional<std::chrono::milliseconds> parseResetDuration(std::string_view value);

// x-ratelimit-remaining-* and x-ratelimit-limit-*: a whole number >= 0.
// "-1" (Azure's "unknown"), fractions, junk and overflow give nullopt.
[[nodiscard]] std::optional<std::uint64_t> parseRemaining(std::string_view value);

// One response's rate-limit headers, parsed. Each field is nullopt when its
// header was absent or unreadable.
struct RateLimitHints {
  std::optional<std::uint64_t> remaining_requests;
  std::optional<std::uint64_t> remaining_tokens;
  std::optional<std::chrono::milliseconds> reset_requests;
  std::optional<std::chrono::milliseconds> reset_tokens;
};

[[nodiscard]] RateLimitHints parseRateLimitHeaders(
    std::optional<std::string_view> remaining_requests,
    std::optional<std::string_view> remaining_tokens,
    std::optional<std::string_view> reset_requests, std::optional<std::string_view> reset_tokens);

}  // namespace dropd::throttle
