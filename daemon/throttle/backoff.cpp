#include "dropd/throttle/backoff.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace dropd::throttle {

std::chrono::milliseconds backoffDelay(const BackoffPolicy& policy, std::uint32_t retry,
                                       double unit,
                                       std::optional<std::chrono::milliseconds> retry_after) {
  using std::chrono::milliseconds;
  const auto initial = std::max(policy.initial, milliseconds(0));
  const auto max = std::max(policy.max, initial);
  // Doubling stops at 2^30 so the product cannot overflow.
  const std::uint32_t doublings = std::min<std::uint32_t>(retry == 0 ? 0 : retry - 1, 30);
  const double ceiling = std::min(static_cast<double>(initial.count()) * std::ldexp(1.0, doublings),
                                  static_cast<double>(max.count()));
  const double u = std::isfinite(unit) ? std::clamp(unit, 0.0, 1.0) : 0.0;
  // The jitter is added to `initial` in whole milliseconds: a double skips
  // milliseconds past 2^53, and a span near INT64_MAX rounds up to 2^63,
  // which does not convert back (undefined behaviour).
  const milliseconds span = max - initial;
  const double offset_ms = u * (ceiling - static_cast<double>(initial.count()));
  const milliseconds jittered =
      initial + (offset_ms >= static_cast<double>(span.count())
                     ? span
                     : milliseconds(static_cast<std::int64_t>(offset_ms)));
  if (retry_after && *retry_after > jittered) {
    return *retry_after;
  }
  return jittered;
}

std::optional<std::chrono::milliseconds> parseRetryAfterSeconds(std::string_view value) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  double seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || !std::isfinite(seconds) || seconds < 0 || seconds > 86400.0 * 7) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

}  // namespace dropd::throttle
