// The counting kernels on any bytes, at any alignment and either starting
// word state: the scalar kernel matches a byte-by-byte reference and the
// exact UTF-8 decoder, and the AVX2 kernel (where the CPU has it) gives the
// scalar kernel's answer field for field.

#include <cstddef>
#include <cstdint>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/file/stats_kernel.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::file::RegionCounts;

RegionCounts countReference(const unsigned char* p, std::size_t n, bool in_word) {
  RegionCounts counts;
  counts.in_word = in_word;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char b = p[i];
    counts.lines += b == '\n';
    counts.nul += b == 0;
    counts.non_ascii += b >= 0x80;
    counts.continuation += (b & 0xC0) == 0x80;
    const bool space = dropd::file::isAsciiSpace(b);
    counts.words += !space && !counts.in_word;
    counts.in_word = !space;
  }
  counts.utf8_valid = dropd::base::decodeUtf8(p, n).invalid_bytes == 0;
  return counts;
}

bool sameCounts(const RegionCounts& a, const RegionCounts& b) {
  return a.lines == b.lines && a.words == b.words && a.continuation == b.continuation &&
         a.non_ascii == b.non_ascii && a.nul == b.nul && a.utf8_valid == b.utf8_valid &&
         a.in_word == b.in_word;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::uint8_t flags = input.takeByte();
  const bool in_word = (flags & 1) != 0;
  const std::string_view rest = input.takeRest();
  // The AVX2 kernel reads in 32-byte blocks: start at every offset within a
  // block, so unaligned heads and tails are both covered.
  const std::size_t skip = (flags >> 1) % 32 < rest.size() ? (flags >> 1) % 32 : 0;
  const auto* p = reinterpret_cast<const unsigned char*>(rest.data()) + skip;
  const std::size_t n = rest.size() - skip;

  const RegionCounts scalar = dropd::file::countRegionScalar(p, n, in_word);
  DROPD_FUZZ_CHECK(sameCounts(scalar, countReference(p, n, in_word)));
  DROPD_FUZZ_CHECK(sameCounts(scalar, dropd::file::countRegion(p, n, in_word)));
  if (dropd::file::avx2Supported()) {
    DROPD_FUZZ_CHECK(sameCounts(scalar, dropd::file::countRegionAvx2(p, n, in_word)));
  }
  return 0;
}
