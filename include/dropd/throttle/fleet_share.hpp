#pragma once

// Fleet mode's endpoint limits (docs/fleet.md, "Shared endpoint limits"):
// each instance of a fleet applies its share of an endpoint's per-minute
// limit, the limit divided by the number of live instances, so that the
// fleet together stays within it. Pure; any thread.

#include <cstdint>

namespace dropd::throttle {

// `per_minute` split over `instances`, rounded up, at least 1. A limit of 0
// (or negative, NaN, infinite: none) stays 0, "unlimited"; 0 instances
// count as 1 (this one is always live).
[[nodiscard]] double fleetShare(double per_minute, std::uint32_t instances);

}  // namespace dropd::throttle
