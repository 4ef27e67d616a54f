#pragma once

// Retry delays: exponential backoff with full jitter (AWS "Exponential
// Backoff and Jitter"): the n-th retry waits a uniform random time in
// [initial, min(max, initial * 2^(n-1))]. A server's Retry-After wins when it
// is longer, even past `max` (the server knows best). Pure.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dropd::throttle {

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
};

// `retry` counts from 1; `unit` is a uniform random number in [0, 1).
[[nodiscard]] std::chrono::milliseconds backoffDelay(
    const BackoffPolicy& policy, std::uint32_t retry, double unit,
    std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

// Retry-After in seconds ("120", "1.5") only; nullopt when absent or
// unreadable. parseRetryAfter() in rate_limit_headers.hpp also reads the
// HTTP-date form and retry-after-ms.
[[nodiscard]] std::optional<std::chrono::milliseconds> parseRetryAfterSeconds(
    std::string_view value);

}  // namespace dropd::throttle
