#pragma once

// An estimate of how many tokens an LLM tokenizer makes of a text, from counts
// the stats pass already has. Pure; any thread. docs/stats.md gives the fit
// and its measured error against OpenAI's o200k_base tokenizer.

#include <cstdint>

namespace dropd::file {

struct TokenFeatures {
  std::uint64_t bytes = 0;
  std::uint64_t words = 0;
  std::uint64_t lines = 0;
  std::uint64_t non_ascii_bytes = 0;
};

[[nodiscard]] std::uint64_t estimateTokens(const TokenFeatures& f) noexcept;

}  // namespace dropd::file
