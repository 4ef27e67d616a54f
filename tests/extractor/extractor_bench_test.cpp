// Hidden benchmarks of the extractor's pure functions (docs/testing.md):
// build/tests/test_extractor "[bench]"
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/utf8_text.hpp"

using namespace dropd::extractor;

namespace {

// 1 MiB of mostly ASCII text with some multi-byte and some invalid bytes.
std::string mixedText() {
  std::mt19937_64 rng{14};
  std::string out;
  while (out.size() < (1u << 20)) {
    const auto r = rng() % 100;
    out += r < 90 ? "word " : r < 98 ? "caf\xC3\xA9 " : "\xFF\xFE ";
  }
  return out;
}

}  // namespace

TEST_CASE("Extractor text functions, 1 MiB", "[.][bench]") {
  const std::string text = mixedText();
  const Bytes bytes{reinterpret_cast<const unsigned char*>(text.data()), text.size()};
  const std::string valid = repairUtf8(text);
  BENCHMARK("repairUtf8") { return repairUtf8(text).size(); };
  BENCHMARK("decodeText (falls back to Windows-1252)") { return decodeText(bytes).text.size(); };
  BENCHMARK("countCodePoints") { return countCodePoints(valid); };
  BENCHMARK("codePointPrefix") { return codePointPrefix(valid, valid.size() / 2); };
}
