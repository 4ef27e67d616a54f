#pragma once

// Splitting a text that does not fit in one request into chunks that do
// (pipelines' `chunking:`, docs/chunking.md), and grouping the chunks'
// answers into reduce requests that fit. Pure; any thread. Every size is
// in tokens as estimateTokens() counts them (token_estimate.hpp), the same
// estimate the rest of dropd uses.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace dropd::file {

// A piece of a text: [offset, offset + size).
struct TextSpan {
  std::size_t offset = 0;
  std::size_t size = 0;
  bool operator==(const TextSpan&) const = default;
};

// estimateTokens() of `text`: its bytes and words (runs of bytes that are
// not ASCII white space, as file::Stats counts them).
[[nodiscard]] std::uint64_t estimateTextTokens(std::string_view text) noexcept;

// Splits `text` into chunks of at most `max_tokens` each, in order:
//  - a text that fits is one chunk (an empty text none);
//  - each chunk ends at the last paragraph boundary (after a blank line)
//    in the second half of what fits, else the last line end there, else
//    the last word start there, else the last word start at all, and only
//    a word longer than the chunk is cut, on a UTF-8 code point boundary;
//  - with `overlap_tokens` > 0, each chunk after the first starts with
//    the words at the end of the one before it that fit in
//    `overlap_tokens` (at a word start; none when even one word does not
//    fit, or when the chunk would then hold no more than one new code
//    point over max_tokens). The overlap is taken as at most max_tokens / 2.
// Without overlap the chunks concatenate back to `text`. Every chunk holds
// at least one code point, so a `max_tokens` below one code point's
// estimate (0) still ends; every chunk with more than one code point is
// within `max_tokens`. Each chunk ends after the one before it.
[[nodiscard]] std::vector<TextSpan> splitChunks(std::string_view text, std::uint64_t max_tokens,
                                                std::uint64_t overlap_tokens);

// Groups consecutive answers (their token counts, in order) for a reduce
// round: each group as many answers as fit in `max_tokens` together, at
// least one. Returns each group's end (exclusive), ascending; the last is
// tokens.size(). When that would leave as many groups as answers (every
// answer too big to share a request), answers are paired instead, so a
// round of two or more answers always makes fewer: the rounds end.
[[nodiscard]] std::vector<std::size_t> groupForReduce(std::span<const std::uint64_t> tokens,
                                                      std::uint64_t max_tokens);

}  // namespace dropd::file
