#include "dropd/config/units.hpp"

#include <catch2/catch.hpp>

using dropd::config::formatDuration;
using dropd::config::formatSize;
using dropd::config::parseDuration;
using dropd::config::parseSize;
using namespace std::chrono_literals;

TEST_CASE("parseDuration reads whole numbers with ms, s, m, h", "[config]") {
  CHECK(parseDuration("250ms").value() == 250ms);
  CHECK(parseDuration("10s").value() == 10s);
  CHECK(parseDuration("5m").value() == 5min);
  CHECK(parseDuration("1h").value() == 1h);
  CHECK(parseDuration("0").value() == 0ms);
  CHECK(parseDuration("0s").value() == 0ms);
  CHECK(parseDuration("1h30m").value() == 90min);
  CHECK(parseDuration("1m500ms").value() == 60500ms);
  CHECK(parseDuration("007s").value() == 7s);
}

TEST_CASE("parseDuration refuses what is not a duration", "[config]") {
  SECTION("words, spaces, signs, fractions and unknown units") {
    for (const char* text : {"", "s", "5", "10x", "5 seconds", " 5s", "5s ", "-1s", "+1s", "1.5s",
                             "5sec", "1S", "1hm", "ms", "1h 30m", "0x10s"}) {
      INFO(text);
      CHECK_FALSE(parseDuration(text).has_value());
    }
  }
  SECTION("the message quotes the text and shows the syntax") {
    CHECK(parseDuration("5 seconds").error().context ==
          "'5 seconds' is not a duration: write a whole number and a unit (ms, s, m, h), e.g. "
          "250ms, 10s, 5m, 1h30m");
    CHECK(parseDuration("-1s").error().context ==
          "'-1s' is not a duration: durations cannot be negative");
  }
  SECTION("overflow is an error, not a wrap") {
    CHECK_FALSE(parseDuration("99999999999999999999ms").has_value());
    CHECK_FALSE(parseDuration("9223372036854775807h").has_value());
    CHECK_FALSE(parseDuration("9223372036854775807ms1ms").has_value());
    CHECK(parseDuration("9223372036854775807ms").value().count() == INT64_MAX);
  }
}

TEST_CASE("parseSize reads bytes and binary units only", "[config]") {
  CHECK(parseSize("0").value() == 0);
  CHECK(parseSize("1024").value() == 1024);
  CHECK(parseSize("512KiB").value() == 512 * 1024);
  CHECK(parseSize("8MiB").value() == 8 * 1024 * 1024);
  CHECK(parseSize("1GiB").value() == 1ull << 30);
  CHECK(parseSize("2TiB").value() == 2ull << 40);
  CHECK(parseSize("10B").value() == 10);
  SECTION("SI units are refused with the binary spelling to use") {
    CHECK(parseSize("8MB").error().context ==
          "size unit 'MB' is ambiguous: write 8MiB (powers of 1024) or plain bytes");
    CHECK(parseSize("8k").error().context ==
          "size unit 'k' is ambiguous: write 8KiB (powers of 1024) or plain bytes");
    CHECK_FALSE(parseSize("1GB").has_value());
  }
  SECTION("junk, signs, spaces, overflow") {
    for (const char* text : {"", "MiB", "-1", "+1", "1.5MiB", "8 MiB", "8mib", "8MiBs", "8XiB",
                             "18446744073709551616", "16777216TiB"}) {
      INFO(text);
      CHECK_FALSE(parseSize(text).has_value());
    }
    CHECK(parseSize("18446744073709551615").value() == UINT64_MAX);
  }
}

TEST_CASE("formatDuration and formatSize give text the parsers read back", "[config]") {
  CHECK(formatDuration(0ms) == "0");
  CHECK(formatDuration(-5ms) == "0");
  CHECK(formatDuration(90min) == "1h30m");
  CHECK(formatDuration(1500ms) == "1s500ms");
  CHECK(formatSize(8ull << 20) == "8MiB");
  CHECK(formatSize(1000) == "1000");
  CHECK(formatSize(0) == "0");
  for (const auto ms : {1ms, 999ms, 61001ms, 3'600'000ms, 86'400'123ms}) {
    CHECK(parseDuration(formatDuration(ms)).value() == ms);
  }
  for (const std::uint64_t n :
       std::initializer_list<std::uint64_t>{1, 1023, 1024, 1536, 1ull << 40, UINT64_MAX}) {
    CHECK(parseSize(formatSize(n)).value() == n);
  }
}
