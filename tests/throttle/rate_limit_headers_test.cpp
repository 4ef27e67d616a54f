#include "dropd/throttle/rate_limit_headers.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace dropd::throttle;

namespace {

// Wed, 21 Oct 2015 07:28:00 GMT
const dropd::WallTime kOct21 =
    dropd::WallTime{std::chrono::sys_days{std::chrono::year{2015} / 10 / 21}} + 7h + 28min;

}  // namespace

TEST_CASE("parseRetryAfter reads delta-seconds", "[throttle]") {
  CHECK(parseRetryAfter("120", kOct21) == 120000ms);
  CHECK(parseRetryAfter(" 1.5 ", kOct21) == 1500ms);
  CHECK(parseRetryAfter("0.0001", kOct21) == 1ms);  // rounds up, never to 0
  CHECK(parseRetryAfter("0", kOct21) == 0ms);
  CHECK(parseRetryAfter("604800", kOct21) == 604800000ms);
  const char* bad = GENERATE("", " ", "-1", "1e3", "inf", "nan", "1.", ".5", "12abc", "604801",
                             "99999999999999999999999");
  CHECK_FALSE(parseRetryAfter(bad, kOct21));
}

TEST_CASE("parseRetryAfter reads an IMF-fixdate HTTP-date", "[throttle]") {
  SECTION("a date ahead gives the distance to it") {
    CHECK(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", kOct21) == 30000ms);
    CHECK(parseRetryAfter("Thu, 22 Oct 2015 07:28:00 GMT", kOct21) == 86400000ms);
  }
  SECTION("a date in the past means now") {
    CHECK(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", kOct21) == 0ms);
  }
  SECTION("the wall clock's sub-second part rounds the wait up") {
    CHECK(parseRetryAfter("Wed, 21 Oct 2015 07:28:01 GMT", kOct21 + 500ms) == 500ms);
  }
  SECTION("other date forms and broken dates are refused") {
    const char* bad = GENERATE("Wednesday, 21-Oct-15 07:28:00 GMT", "Wed Oct 21 07:28:00 2015",
                               "Wed, 21 Oct 2015 07:28:00 UTC", "Wed, 31 Feb 2015 07:28:00 GMT",
                               "Wed, 21 Foo 2015 07:28:00 GMT", "Wed, 21 Oct 2015 24:28:00 GMT",
                               "Wed, 2x Oct 2015 07:28:00 GMT");
    CHECK_FALSE(parseRetryAfter(bad, kOct21));
  }
  SECTION("a date more than a week ahead is junk") {
    CHECK_FALSE(parseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT", kOct21));
  }
}

TEST_CASE("parseHttpDate gives the instant", "[throttle]") {
  CHECK(parseHttpDate("Wed, 21 Oct 2015 07:28:00 GMT") == kOct21);
  CHECK(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT") ==
        dropd::WallTime{std::chrono::sys_days{std::chrono::year{1994} / 11 / 6}} + 8h + 49min +
            37s);
}

// Found by tests/fuzz/rate_limit_headers_fuzz.cpp: the years overflowed
// WallTime's 64-bit nanoseconds (undefined behaviour, caught by UBSan).
TEST_CASE("parseHttpDate refuses years WallTime cannot hold", "[throttle]") {
  CHECK_FALSE(parseHttpDate("Wed, 21 Oct 6286 07:28:00 GMT"));
  CHECK_FALSE(parseHttpDate("Fri, 31 Dec 9999 23:59:59 GMT"));
  CHECK_FALSE(parseHttpDate("Sat, 01 Jan 0000 00:00:00 GMT"));
  CHECK_FALSE(parseRetryAfter("Wed, 21 Oct 6286 07:28:00 GMT", kOct21));
  CHECK(parseHttpDate("Thu, 01 Jan 2260 00:00:00 GMT"));
  CHECK(parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", kOct21) == 0ms);
}

TEST_CASE("retry-after-ms is preferred over Retry-After", "[throttle]") {
  CHECK(parseRetryAfterMs("1500") == 1500ms);
  CHECK(parseRetryAfterMs("20.2") == 21ms);
  CHECK_FALSE(parseRetryAfterMs("-5"));
  CHECK_FALSE(parseRetryAfterMs("soon"));
  CHECK(pickRetryAfter("250", "3", kOct21) == 250ms);
  CHECK(pickRetryAfter(std::nullopt, "3", kOct21) == 3000ms);
  CHECK(pickRetryAfter("junk", "3", kOct21) == 3000ms);  // a broken -ms falls back
  CHECK_FALSE(pickRetryAfter(std::nullopt, std::nullopt, kOct21));
  CHECK_FALSE(pickRetryAfter("junk", "junk", kOct21));
}

TEST_CASE("parseResetDuration reads Go durations", "[throttle]") {
  CHECK(parseResetDuration("6m0s") == 360000ms);
  CHECK(parseResetDuration("1s") == 1000ms);
  CHECK(parseResetDuration("20ms") == 20ms);
  CHECK(parseResetDuration("1h2m3.5s") == 3723500ms);
  CHECK(parseResetDuration("8.64s") == 8640ms);
  CHECK(parseResetDuration("0s") == 0ms);
  CHECK(parseResetDuration("1.5ms") == 2ms);  // rounds up
  CHECK(parseResetDuration("500us") == 1ms);
  CHECK(parseResetDuration("500\xC2\xB5s") == 1ms);
  CHECK(parseResetDuration("10ns") == 1ms);
  CHECK(parseResetDuration("2") == 2000ms);  // a bare number is seconds
  CHECK(parseResetDuration("0") == 0ms);
  const char* bad =
      GENERATE("", "s", "-1s", "1x", "1s2", "1.s", "ms", "1 s", "9999999h", "abc", "1m-2s");
  CHECK_FALSE(parseResetDuration(bad));
}

TEST_CASE("parseRemaining accepts only whole numbers >= 0", "[throttle]") {
  CHECK(parseRemaining("0") == 0u);
  CHECK(parseRemaining(" 4999 ") == 4999u);
  CHECK(parseRemaining("18446744073709551615") == UINT64_MAX);
  const char* bad = GENERATE("-1", "", "1.5", "+3", "abc", "12abc", "18446744073709551616");
  CHECK_FALSE(parseRemaining(bad));
}

TEST_CASE("parseRateLimitHeaders keeps what is readable", "[throttle]") {
  SECTION("OpenAI's headers") {
    const auto hints = parseRateLimitHeaders("59", "149984", "1s", "6m0s");
    CHECK(hints.remaining_requests == 59u);
    CHECK(hints.remaining_tokens == 149984u);
    CHECK(hints.reset_requests == 1000ms);
    CHECK(hints.reset_tokens == 360000ms);
  }
  SECTION("Azure's -1 and missing headers give nothing") {
    const auto hints = parseRateLimitHeaders("-1", std::nullopt, std::nullopt, "junk");
    CHECK_FALSE(hints.remaining_requests);
    CHECK_FALSE(hints.remaining_tokens);
    CHECK_FALSE(hints.reset_requests);
    CHECK_FALSE(hints.reset_tokens);
  }
}
