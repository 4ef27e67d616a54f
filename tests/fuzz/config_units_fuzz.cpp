// The config's duration and size units: any text either fails or gives a
// value that formats back to text reading as the same value, and every
// value round-trips (parse(format(x)) == x) through its shortest form.

#include <chrono>
#include <cstdint>
#include <string>

#include "dropd/config/units.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using std::chrono::milliseconds;
namespace config = dropd::config;

void checkDurationRoundTrip(milliseconds value) {
  const std::string text = config::formatDuration(value);
  const auto parsed = config::parseDuration(text);
  DROPD_FUZZ_CHECK(parsed.has_value() && *parsed == value);
}

void checkSizeRoundTrip(std::uint64_t value) {
  const std::string text = config::formatSize(value);
  const auto parsed = config::parseSize(text);
  DROPD_FUZZ_CHECK(parsed.has_value() && *parsed == value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  // Durations are never negative in a config; the parser cannot write one.
  const auto raw_ms = input.takeInt<std::uint64_t>() >> 1;
  checkDurationRoundTrip(milliseconds(static_cast<std::int64_t>(raw_ms)));
  // Values with many trailing zero bits exercise the larger units.
  const auto raw_size = input.takeInt<std::uint64_t>();
  checkSizeRoundTrip(raw_size);
  checkSizeRoundTrip(raw_size << (input.takeByte() % 64));

  const std::string_view text = input.takeRest();
  if (const auto duration = config::parseDuration(text)) {
    DROPD_FUZZ_CHECK(*duration >= milliseconds(0));
    checkDurationRoundTrip(*duration);
  }
  if (const auto size_bytes = config::parseSize(text)) {
    checkSizeRoundTrip(*size_bytes);
  }
  return 0;
}
