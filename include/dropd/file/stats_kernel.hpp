#pragma once

// The counting kernels behind StatsAccumulator: one pass over a region of
// bytes counting newlines, word starts, UTF-8 continuation bytes, non-ASCII
// and NUL bytes, and checking that the region is well-formed UTF-8 on its own
// (a sequence cut at its end is invalid). A scalar version runs anywhere; the
// AVX2 one only where the CPU has it (countRegion() picks at run time). Both
// give identical results; tests compare them. Pure; any thread.

#include <cstddef>
#include <cstdint>

namespace dropd::file {

struct RegionCounts {
  std::uint64_t lines = 0;         // bytes == '\n'
  std::uint64_t words = 0;         // non-whitespace bytes after whitespace (or after in_word=false)
  std::uint64_t continuation = 0;  // bytes 0x80..0xBF
  std::uint64_t non_ascii = 0;     // bytes >= 0x80
  std::uint64_t nul = 0;           // bytes == 0x00
  bool utf8_valid = true;          // the region alone is well-formed UTF-8
  bool in_word = false;            // the last byte is not whitespace (unchanged if n == 0)
};

// ASCII whitespace as Python's bytes.split(): space, \t \n \v \f \r.
[[nodiscard]] constexpr bool isAsciiSpace(unsigned char b) noexcept {
  return b == ' ' || (b >= '\t' && b <= '\r');
}

// `in_word`: whether the byte before p[0] was part of a word.
[[nodiscard]] RegionCounts countRegionScalar(const unsigned char* p, std::size_t n,
                                             bool in_word) noexcept;
// Requires AVX2 (check avx2Supported()).
[[nodiscard]] RegionCounts countRegionAvx2(const unsigned char* p, std::size_t n,
                                           bool in_word) noexcept;
[[nodiscard]] bool avx2Supported() noexcept;
// The fastest kernel this CPU runs.
[[nodiscard]] RegionCounts countRegion(const unsigned char* p, std::size_t n,
                                       bool in_word) noexcept;

}  // namespace dropd::file
