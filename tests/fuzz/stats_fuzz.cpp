// computeStats() and StatsAccumulator on any bytes: the counts match a
// byte-by-byte reference, chars agree with the exact UTF-8 decoder, and
// feeding the same bytes in any chunks gives exactly the whole-buffer result.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/file/stats.hpp"
#include "dropd/file/stats_kernel.hpp"
#include "dropd/file/token_estimate.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::file::Stats;

struct ByteCounts {
  std::uint64_t lines = 0;
  std::uint64_t words = 0;
  std::uint64_t nul = 0;
  std::uint64_t non_ascii = 0;
};

ByteCounts countBytes(std::span<const std::byte> data) {
  ByteCounts counts;
  bool in_word = false;
  for (const std::byte byte : data) {
    const auto b = static_cast<unsigned char>(byte);
    counts.lines += b == '\n';
    counts.nul += b == 0;
    counts.non_ascii += b >= 0x80;
    const bool space = dropd::file::isAsciiSpace(b);
    counts.words += !space && !in_word;
    in_word = !space;
  }
  return counts;
}

bool sameStats(const Stats& a, const Stats& b) {
  return a.bytes == b.bytes && a.lines == b.lines && a.words == b.words && a.chars == b.chars &&
         a.utf8_valid == b.utf8_valid && a.sha256 == b.sha256 &&
         a.estimated_tokens == b.estimated_tokens && a.nul_bytes == b.nul_bytes &&
         a.invalid_utf8_bytes == b.invalid_utf8_bytes && a.non_ascii_bytes == b.non_ascii_bytes;
}

// Chunk sizes from a small generator seeded by the input, so chunk
// boundaries land inside UTF-8 sequences, words and runs of whitespace.
Stats computeChunked(std::span<const std::byte> data, std::uint8_t seed) {
  dropd::file::StatsAccumulator acc;
  std::uint32_t state = seed * 2654435761u + 1;
  while (!data.empty()) {
    state = state * 1103515245u + 12345u;
    const std::size_t want = (state >> 16) % 70;  // 0 included: empty feeds must be harmless
    const std::size_t n = want < data.size() ? want : data.size();
    acc.feed(data.first(n));
    data = data.subspan(n);
  }
  return std::move(acc).finish();
}

void checkAgainstReference(std::span<const std::byte> data, const Stats& stats) {
  const ByteCounts ref = countBytes(data);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const dropd::base::Utf8Counts utf8 = dropd::base::decodeUtf8(p, data.size());
  DROPD_FUZZ_CHECK(stats.bytes == data.size());
  DROPD_FUZZ_CHECK(stats.lines == ref.lines);
  DROPD_FUZZ_CHECK(stats.words == ref.words);
  DROPD_FUZZ_CHECK(stats.nul_bytes == ref.nul);
  DROPD_FUZZ_CHECK(stats.non_ascii_bytes == ref.non_ascii);
  DROPD_FUZZ_CHECK(stats.chars == utf8.code_points + utf8.invalid_bytes);
  DROPD_FUZZ_CHECK(stats.invalid_utf8_bytes == utf8.invalid_bytes);
  DROPD_FUZZ_CHECK(stats.utf8_valid == (utf8.invalid_bytes == 0));
  DROPD_FUZZ_CHECK(stats.chars <= stats.bytes);
  DROPD_FUZZ_CHECK(stats.words <= (stats.bytes + 1) / 2);  // words need a separator
  DROPD_FUZZ_CHECK(stats.estimated_tokens ==
                   dropd::file::estimateTokens({.bytes = stats.bytes, .words = stats.words}));
  DROPD_FUZZ_CHECK(stats.sha256.size() == 64);
  DROPD_FUZZ_CHECK(stats.sha256.find_first_not_of("0123456789abcdef") == std::string::npos);
  DROPD_FUZZ_CHECK(stats.nul_bytes == 0 || dropd::file::looksBinary(stats));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::uint8_t seed = input.takeByte();
  const std::string_view rest = input.takeRest();
  const std::span<const std::byte> bytes{reinterpret_cast<const std::byte*>(rest.data()),
                                         rest.size()};
  const Stats whole = dropd::file::computeStats(bytes);
  checkAgainstReference(bytes, whole);
  DROPD_FUZZ_CHECK(sameStats(whole, computeChunked(bytes, seed)));
  return 0;
}
