// Hidden benchmarks of the stats pure functions (STYLE.md, "Pure
// functions"). Run with `test_file "[bench]"`; bench/stats measures whole
// files against wc.

#include <cstddef>
#include <span>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/file/stats.hpp"
#include "dropd/file/stats_kernel.hpp"
#include "dropd/file/token_estimate.hpp"

namespace {

// 1 MiB of mostly ASCII prose with some multi-byte text, like the files dropd sees.
std::string makeText() {
  const std::string line = "The quick brown fox jumps over the lazy dog; déjà vu — 日本語 ✓\n";
  std::string text;
  while (text.size() < (1 << 20)) {
    text += line;
  }
  return text;
}

std::span<const std::byte> asBytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("Stats functions over 1 MiB of text", "[.][bench]") {
  const std::string text = makeText();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());

  BENCHMARK("computeStats (sha256 included)") { return dropd::file::computeStats(asBytes(text)); };
  BENCHMARK("countRegionScalar") { return dropd::file::countRegionScalar(p, text.size(), false); };
  if (dropd::file::avx2Supported()) {
    BENCHMARK("countRegionAvx2") { return dropd::file::countRegionAvx2(p, text.size(), false); };
  }
  BENCHMARK("decodeUtf8") { return dropd::base::decodeUtf8(p, text.size()); };
  BENCHMARK("utf8CompletePrefix of a 64 KiB chunk") {
    return dropd::base::utf8CompletePrefix(p, 64 * 1024 + 1);
  };
  BENCHMARK("estimateTokens") {
    return dropd::file::estimateTokens({.bytes = text.size(), .words = text.size() / 6});
  };
}
