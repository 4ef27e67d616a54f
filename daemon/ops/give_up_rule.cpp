#include "dropd/ops/give_up_rule.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace dropd::ops {

using std::chrono::milliseconds;

std::string_view toString(EndpointHealth health) {
  switch (health) {
    case EndpointHealth::kHealthy:
      return "healthy";
    case EndpointHealth::kPaused:
      return "paused";
    case EndpointHealth::kDown:
      return "down";
  }
  return "healthy";
}

std::optional<MonoTime> nextUnhealthySince(std::optional<MonoTime> since, EndpointHealth health,
                                           MonoTime now) {
  if (health == EndpointHealth::kHealthy) {
    return std::nullopt;
  }
  return since.value_or(now);
}

milliseconds waitedSince(MonoTime since, MonoTime now) {
  if (since >= now) {
    return milliseconds(0);
  }
  // Unsigned: the difference of any two int64 counts fits in 64 bits.
  const auto ns = static_cast<std::uint64_t>(now.time_since_epoch().count()) -
                  static_cast<std::uint64_t>(since.time_since_epoch().count());
  using Ns = std::chrono::nanoseconds;
  static_assert(std::is_same_v<MonoTime::duration::period, Ns::period>);
  return milliseconds(static_cast<milliseconds::rep>(ns / 1'000'000));
}

bool shouldGiveUp(std::span<const EndpointWait> endpoints, bool other_work, MonoTime now,
                  milliseconds bound) {
  if (other_work) {
    return false;
  }
  const milliseconds floor = std::max(bound, milliseconds(0));
  bool any_files = false;
  for (const EndpointWait& e : endpoints) {
    if (!e.has_files) {
      continue;
    }
    any_files = true;
    // An endpoint that works will finish its files.
    if (e.health == EndpointHealth::kHealthy || waitedSince(e.unhealthy_since, now) <= floor) {
      return false;
    }
  }
  return any_files;
}

milliseconds defaultGiveUpAfter(std::span<const milliseconds> max_backoffs) {
  milliseconds largest{0};
  for (const milliseconds b : max_backoffs) {
    largest = std::max(largest, b);
  }
  constexpr milliseconds::rep kMax = std::numeric_limits<milliseconds::rep>::max();
  return largest.count() > kMax / 2 ? milliseconds(kMax) : 2 * largest;
}

}  // namespace dropd::ops
