#pragma once

// An estimate of how many tokens an LLM tokenizer makes of a text, from counts
// the stats pass already has. Pure; any thread. docs/stats.md gives the fit
// and its measured error against OpenAI's o200k_base and cl100k_base
// tokenizers (bench/token_error.mjs measures it).

#include <cstdint>

namespace dropd::file {

struct TokenFeatures {
  std::uint64_t bytes = 0;
  std::uint64_t words = 0;  // as Stats::words
};

// round((320 * bytes - 87 * words) / 1024): about 0.31 tokens per byte, less
// a little per word since each space-word pair tends to share a token.
// Never negative (words <= bytes); saturates instead of overflowing.
[[nodiscard]] std::uint64_t estimateTokens(const TokenFeatures& f) noexcept;

}  // namespace dropd::file
