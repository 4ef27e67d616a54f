#include "dropd/throttle/fleet_share.hpp"

#include <algorithm>
#include <cmath>

namespace dropd::throttle {

double fleetShare(double per_minute, std::uint32_t instances) {
  if (!std::isfinite(per_minute) || per_minute <= 0) {
    return 0;
  }
  const double n = std::max<std::uint32_t>(instances, 1);
  // Rounded up: the fleet may go over the limit by at most one unit per
  // instance a minute, which the provider's own window absorbs, rather
  // than a small limit rounding to 0 (unlimited) or starving.
  return std::max(1.0, std::ceil(per_minute / n));
}

}  // namespace dropd::throttle
