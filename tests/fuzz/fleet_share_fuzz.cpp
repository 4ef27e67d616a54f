// fleetShare() for any limit (NaN, infinities, negatives, huge) and any
// number of instances: no limit stays 0 (unlimited), a limit gives at least
// 1 and at most the limit rounded up, the shares of all instances cover the
// limit, and more instances never get a larger share.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "dropd/throttle/fleet_share.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const auto bits = input.takeInt<std::uint64_t>();
  double limit = 0;
  std::memcpy(&limit, &bits, sizeof limit);
  // Half the inputs a plausible per-minute limit, where the arithmetic matters.
  if (input.takeBool()) {
    limit = static_cast<double>(bits % 10'000'000);
  }
  const auto n = input.takeInt<std::uint32_t>();
  using dropd::throttle::fleetShare;
  const double share = fleetShare(limit, n);
  if (!std::isfinite(limit) || limit <= 0) {
    DROPD_FUZZ_CHECK(share == 0);
    return 0;
  }
  const double instances = n == 0 ? 1 : n;
  DROPD_FUZZ_CHECK(share >= 1 && share <= std::ceil(limit));
  DROPD_FUZZ_CHECK(share == std::floor(share));
  DROPD_FUZZ_CHECK(share * instances >= limit * (1 - 1e-12));
  if (n < UINT32_MAX) {
    DROPD_FUZZ_CHECK(fleetShare(limit, n + 1) <= share);
  }
  return 0;
}
