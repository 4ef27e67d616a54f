// The portable kernel: the reference the SIMD kernels are tested against, and
// the path on CPUs without AVX2.

#include "dropd/base/utf8_decode.hpp"
#include "dropd/file/stats_kernel.hpp"

namespace dropd::file {

namespace {

bool isValidUtf8(const unsigned char* p, std::size_t n) noexcept {
  const base::Utf8Counts counts = base::decodeUtf8(p, n);
  return counts.invalid_bytes == 0;
}

}  // namespace

RegionCounts countRegionScalar(const unsigned char* p, std::size_t n, bool in_word) noexcept {
  RegionCounts counts;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char b = p[i];
    const bool space = isAsciiSpace(b);
    counts.lines += b == '\n' ? 1 : 0;
    counts.words += (!space && !in_word) ? 1 : 0;
    counts.continuation += (b & 0xC0) == 0x80 ? 1 : 0;
    counts.non_ascii += b >= 0x80 ? 1 : 0;
    counts.nul += b == 0 ? 1 : 0;
    in_word = !space;
  }
  counts.in_word = in_word;
  counts.utf8_valid = counts.non_ascii == 0 || isValidUtf8(p, n);
  return counts;
}

RegionCounts countRegion(const unsigned char* p, std::size_t n, bool in_word) noexcept {
  static const bool kUseAvx2 = avx2Supported();  // the CPU does not change under us
  return kUseAvx2 ? countRegionAvx2(p, n, in_word) : countRegionScalar(p, n, in_word);
}

}  // namespace dropd::file
