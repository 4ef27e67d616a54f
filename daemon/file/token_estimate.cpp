#include "dropd/file/token_estimate.hpp"

#include <limits>

namespace dropd::file {

namespace {

// Fitted by least squares on the relative error over gen_corpus.py's small
// and medium sets against o200k_base; scaled by 1024.
constexpr std::uint64_t kPerByte = 320;
constexpr std::uint64_t kPerWord = 87;

}  // namespace

std::uint64_t estimateTokens(const TokenFeatures& f) noexcept {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (f.bytes > (kMax - 512) / kPerByte) {
    return f.bytes / 1024 * kPerByte;  // beyond any real file: keep it total, not exact
  }
  const std::uint64_t plus = f.bytes * kPerByte + 512;
  const std::uint64_t minus = (f.words < f.bytes ? f.words : f.bytes) * kPerWord;
  return (plus - minus) / 1024;
}

}  // namespace dropd::file
