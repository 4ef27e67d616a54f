// The rate-limit header parsers on any text: every wait is within
// [0, kMaxHeaderWait], pickRetryAfter() prefers a readable retry-after-ms,
// parseRemaining() round-trips through its decimal form, and an HTTP-date
// built from any time reads back as that time (parse(format(t)) == t).

#include <time.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dropd/throttle/rate_limit_headers.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace throttle = dropd::throttle;

void checkWait(std::optional<milliseconds> wait) {
  if (wait) {
    DROPD_FUZZ_CHECK(*wait >= milliseconds(0) && *wait <= throttle::kMaxHeaderWait);
  }
}

// IMF-fixdate as RFC 9110 writes it, built without the code under test.
std::string formatHttpDate(std::int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm utc {};
  gmtime_r(&t, &utc);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return buf;
}

void checkHttpDateRoundTrip(std::uint32_t unix_seconds, dropd::WallTime now) {
  const std::string text = formatHttpDate(unix_seconds);
  const std::optional<dropd::WallTime> parsed = throttle::parseHttpDate(text);
  DROPD_FUZZ_CHECK(parsed.has_value());
  DROPD_FUZZ_CHECK(*parsed == dropd::WallTime(seconds(unix_seconds)));
  const auto ahead = std::chrono::duration_cast<milliseconds>(*parsed - now);
  const std::optional<milliseconds> wait = throttle::parseRetryAfter(text, now);
  if (ahead <= throttle::kMaxHeaderWait) {
    DROPD_FUZZ_CHECK(wait == std::max(ahead, milliseconds(0)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const auto date_seconds = input.takeInt<std::uint32_t>();
  // "now" within a week of the date, so both past and future dates occur.
  const auto offset = seconds(input.takeInt<std::int32_t>() % (8 * 24 * 3600));
  const dropd::WallTime now = dropd::WallTime(seconds(date_seconds)) + offset;
  checkHttpDateRoundTrip(date_seconds, now);

  const std::string_view a = input.takeShortString();
  const std::string_view b = input.takeRest();
  checkWait(throttle::parseRetryAfter(a, now));
  checkWait(throttle::parseRetryAfterMs(a));
  checkWait(throttle::parseResetDuration(a));
  checkWait(throttle::parseRetryAfter(b, now));

  const std::optional<milliseconds> ms = throttle::parseRetryAfterMs(a);
  const std::optional<milliseconds> picked = throttle::pickRetryAfter(a, b, now);
  DROPD_FUZZ_CHECK(picked == (ms ? ms : throttle::parseRetryAfter(b, now)));
  DROPD_FUZZ_CHECK(throttle::pickRetryAfter(std::nullopt, std::nullopt, now) == std::nullopt);

  if (const std::optional<std::uint64_t> remaining = throttle::parseRemaining(a)) {
    DROPD_FUZZ_CHECK(throttle::parseRemaining(std::to_string(*remaining)) == remaining);
  }
  const throttle::RateLimitHints hints = throttle::parseRateLimitHeaders(a, b, a, b);
  DROPD_FUZZ_CHECK(hints.remaining_requests == throttle::parseRemaining(a));
  DROPD_FUZZ_CHECK(hints.reset_tokens == throttle::parseResetDuration(b));
  return 0;
}
