// Hidden benchmarks of the config unit parsers and formatters. Run with
// `test_config "[bench]"`.

#include <chrono>

#include <catch2/catch.hpp>

#include "dropd/config/units.hpp"

namespace config = dropd::config;

TEST_CASE("Duration and size parsing and formatting", "[.][bench]") {
  BENCHMARK("parseDuration") { return config::parseDuration("1h30m15s250ms"); };
  BENCHMARK("formatDuration") {
    return config::formatDuration(std::chrono::milliseconds(5415250));
  };
  BENCHMARK("parseSize") { return config::parseSize("512MiB"); };
  BENCHMARK("formatSize") { return config::formatSize(8ULL << 30); };
}
