// backoffDelay() for any policy, retry count, random number (NaN and
// infinities included) and Retry-After: the delay stays within [initial,
// the doubled ceiling], never shrinks as the retry count or the random
// number grows, and only a longer Retry-After replaces it.
// parseRetryAfterSeconds() never gives a negative or week-plus wait.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>

#include "dropd/throttle/backoff.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::throttle::backoffDelay;
using dropd::throttle::BackoffPolicy;
using std::chrono::milliseconds;

double takeDouble(dropd::fuzz::FuzzInput& input) {
  const auto bits = input.takeInt<std::uint64_t>();
  double value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

void checkDelay(const BackoffPolicy& policy, std::uint32_t retry, double unit) {
  const milliseconds initial = std::max(policy.initial, milliseconds(0));
  const milliseconds max = std::max(policy.max, initial);
  const milliseconds delay = backoffDelay(policy, retry, unit);
  DROPD_FUZZ_CHECK(delay >= initial && delay <= max);
  // The first retry never waits more than `initial`, whatever the jitter.
  DROPD_FUZZ_CHECK(retry > 1 || delay == initial);
  DROPD_FUZZ_CHECK(backoffDelay(policy, retry, 0.0) == initial);
  if (retry < UINT32_MAX) {
    DROPD_FUZZ_CHECK(backoffDelay(policy, retry + 1, 0.999) >= backoffDelay(policy, retry, 0.999));
  }
  if (std::isfinite(unit) && unit >= 0 && unit < 1) {
    const double more = std::nextafter(unit, 1.0);
    DROPD_FUZZ_CHECK(backoffDelay(policy, retry, more) >= delay);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  // Policies come from the config, which reads durations up to INT64_MAX ms;
  // any sign and any order of initial and max must stay defined too. Half
  // the inputs keep to 32 bits, where real policies are.
  const int shift = (input.takeByte() & 1) != 0 ? 32 : 0;
  const BackoffPolicy policy{milliseconds(input.takeInt<std::int64_t>() >> shift),
                             milliseconds(input.takeInt<std::int64_t>() >> shift)};
  const auto retry = input.takeInt<std::uint32_t>();
  const double unit = takeDouble(input);
  checkDelay(policy, retry, unit);

  const std::optional<milliseconds> retry_after =
      dropd::throttle::parseRetryAfterSeconds(input.takeRest());
  if (retry_after) {
    DROPD_FUZZ_CHECK(*retry_after >= milliseconds(0));
    DROPD_FUZZ_CHECK(*retry_after <= std::chrono::hours(24 * 7));
  }
  const milliseconds plain = backoffDelay(policy, retry, unit);
  const milliseconds with = backoffDelay(policy, retry, unit, retry_after);
  DROPD_FUZZ_CHECK(with == (retry_after ? std::max(plain, *retry_after) : plain));
  return 0;
}
