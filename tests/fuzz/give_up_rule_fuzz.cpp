// shouldGiveUp() for any endpoints, times and bound: it never gives up
// while records are being committed, while no endpoint has files, or while
// an endpoint with files is healthy or has waited no longer than the bound;
// endpoints without files never change the answer; and a longer wait (a
// later `now`) never takes a give-up back. defaultGiveUpAfter() is never
// negative and never below the largest backoff.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "dropd/ops/give_up_rule.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::MonoTime;
using dropd::ops::EndpointHealth;
using dropd::ops::EndpointWait;
using dropd::ops::shouldGiveUp;
using dropd::ops::waitedSince;
using std::chrono::milliseconds;

MonoTime takeTime(dropd::fuzz::FuzzInput& input) {
  return MonoTime(MonoTime::duration(input.takeInt<std::int64_t>()));
}

std::vector<EndpointWait> takeWaits(dropd::fuzz::FuzzInput& input) {
  std::vector<EndpointWait> waits(input.takeByte() % 6);
  for (EndpointWait& w : waits) {
    const std::uint8_t bits = input.takeByte();
    w.has_files = (bits & 1) != 0;
    w.health = static_cast<EndpointHealth>((bits >> 1) % 3);
    w.unhealthy_since = takeTime(input);
  }
  return waits;
}

void checkVerdict(const std::vector<EndpointWait>& waits, MonoTime now, milliseconds bound) {
  const bool verdict = shouldGiveUp(waits, false, now, bound);
  DROPD_FUZZ_CHECK(!shouldGiveUp(waits, true, now, bound));
  bool any_files = false;
  bool all_waited = true;
  for (const EndpointWait& w : waits) {
    if (w.has_files) {
      any_files = true;
      all_waited = all_waited && w.health != EndpointHealth::kHealthy &&
                   waitedSince(w.unhealthy_since, now) > std::max(bound, milliseconds(0));
    }
  }
  DROPD_FUZZ_CHECK(verdict == (any_files && all_waited));
  std::vector<EndpointWait> with_files;
  std::copy_if(waits.begin(), waits.end(), std::back_inserter(with_files),
               [](const EndpointWait& w) { return w.has_files; });
  DROPD_FUZZ_CHECK(shouldGiveUp(with_files, false, now, bound) == verdict);
  if (verdict && now < MonoTime::max()) {
    DROPD_FUZZ_CHECK(shouldGiveUp(waits, false, now + MonoTime::duration(1), bound));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::vector<EndpointWait> waits = takeWaits(input);
  const MonoTime now = takeTime(input);
  // Half the bounds keep to 32 bits, where real --give-up-after values are.
  const int shift = input.takeBool() ? 32 : 0;
  const milliseconds bound(input.takeInt<std::int64_t>() >> shift);
  checkVerdict(waits, now, bound);

  std::vector<milliseconds> backoffs;
  while (input.remaining() >= sizeof(std::int64_t)) {
    backoffs.emplace_back(input.takeInt<std::int64_t>());
  }
  const milliseconds fallback = dropd::ops::defaultGiveUpAfter(backoffs);
  DROPD_FUZZ_CHECK(fallback >= milliseconds(0));
  for (const milliseconds b : backoffs) {
    DROPD_FUZZ_CHECK(fallback >= b);
  }
  return 0;
}
