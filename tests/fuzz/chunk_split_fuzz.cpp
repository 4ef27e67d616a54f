// splitChunks() and groupForReduce() on any bytes and sizes: the chunks
// start at 0 and end at the text's end, each ends after the one before
// with no gap; each is within max_tokens
// or one code point; the overlap with the chunk before fits in the
// overlap; without overlap they concatenate back to the text. A reduce
// round of two or more answers always makes fewer groups.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/file/chunk_split.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput in(data, size);
  const std::uint64_t max = in.takeInt<std::uint16_t>() % 600;
  const std::uint64_t overlap = in.takeInt<std::uint16_t>() % 400;
  const std::string text(in.takeRest());
  const auto chunks = dropd::file::splitChunks(text, max, overlap);
  DROPD_FUZZ_CHECK(chunks.empty() == text.empty());
  std::size_t end_before = 0;
  std::string joined;
  std::vector<std::uint64_t> tokens;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    const std::size_t end = c.offset + c.size;
    DROPD_FUZZ_CHECK(c.size > 0 && end <= text.size());
    DROPD_FUZZ_CHECK(c.offset <= end_before && end > end_before);
    DROPD_FUZZ_CHECK(i > 0 || c.offset == 0);
    const std::string_view piece = std::string_view(text).substr(c.offset, c.size);
    tokens.push_back(dropd::file::estimateTextTokens(piece));
    DROPD_FUZZ_CHECK(tokens.back() <= max || c.size <= 4);
    if (i > 0) {
      const auto shared = std::string_view(text).substr(c.offset, end_before - c.offset);
      DROPD_FUZZ_CHECK(dropd::file::estimateTextTokens(shared) <= overlap);
      DROPD_FUZZ_CHECK(overlap != 0 || c.offset == end_before);
    }
    joined.append(text, end_before, end - end_before);
    end_before = end;
  }
  DROPD_FUZZ_CHECK(joined == text);
  const auto ends = dropd::file::groupForReduce(tokens, max);
  DROPD_FUZZ_CHECK(ends.empty() == tokens.empty());
  DROPD_FUZZ_CHECK(tokens.size() < 2 || ends.size() < tokens.size());
  for (std::size_t i = 0; i < ends.size(); ++i) {
    DROPD_FUZZ_CHECK(ends[i] > (i == 0 ? 0 : ends[i - 1]));
  }
  DROPD_FUZZ_CHECK(ends.empty() || ends.back() == tokens.size());
  return 0;
}
