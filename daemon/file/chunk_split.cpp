// splitChunks and groupForReduce (chunk_split.hpp).
#include "dropd/file/chunk_split.hpp"

#include <algorithm>

#include "dropd/file/stats_kernel.hpp"
#include "dropd/file/token_estimate.hpp"

namespace dropd::file {
namespace {

bool space(char c) { return isAsciiSpace(static_cast<unsigned char>(c)); }
bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

enum class Boundary { kParagraph, kLine, kWord };

// Is `p` (0 < p < text.size()) a boundary of that kind? A paragraph starts
// after a line holding only blanks; a word start follows white space.
bool isBoundary(std::string_view text, std::size_t p, Boundary kind) {
  switch (kind) {
    case Boundary::kWord:
      return space(text[p - 1]) && !space(text[p]);
    case Boundary::kLine:
      return text[p - 1] == '\n';
    case Boundary::kParagraph: {
      if (text[p - 1] != '\n' || text[p] == '\n' || text[p] == '\r') {
        return false;  // the blank lines go with the paragraph before
      }
      std::size_t j = p - 1;
      while (j > 0 && (text[j - 1] == ' ' || text[j - 1] == '\t' || text[j - 1] == '\r')) {
        --j;
      }
      return j > 0 && text[j - 1] == '\n';
    }
  }
  return false;
}

// The last boundary of `kind` in (lo, hi], or 0 if none.
std::size_t lastBoundary(std::string_view text, std::size_t lo, std::size_t hi, Boundary kind) {
  for (std::size_t p = hi; p > lo; --p) {
    if (isBoundary(text, p, kind)) {
      return p;
    }
  }
  return 0;
}

// The largest end such that [start, end) is within max_tokens (start if
// not even one byte is).
std::size_t farthestEnd(std::string_view text, std::size_t start, std::uint64_t max_tokens) {
  std::uint64_t words = 0;
  bool in_word = false;
  std::size_t end = start;
  for (std::size_t i = start; i < text.size(); ++i) {
    const bool word_start = !space(text[i]) && !in_word;
    if (estimateTokens({i + 1 - start, words + (word_start ? 1 : 0)}) > max_tokens) {
      break;
    }
    words += word_start ? 1 : 0;
    in_word = !space(text[i]);
    end = i + 1;
  }
  return end;
}

// Where a chunk that may end anywhere in (lo, far] ends (far < size).
std::size_t chooseCut(std::string_view text, std::size_t lo, std::size_t far) {
  far = std::max(far, lo);
  const std::size_t half = lo + (far - lo) / 2;
  for (const Boundary kind : {Boundary::kParagraph, Boundary::kLine, Boundary::kWord}) {
    if (const std::size_t p = lastBoundary(text, half, far, kind); p != 0) {
      return p;
    }
  }
  if (const std::size_t p = lastBoundary(text, lo, half, Boundary::kWord); p != 0) {
    return p;
  }
  // One word longer than a chunk: cut between code points. A sequence is
  // at most 4 bytes; longer runs of continuation bytes are not UTF-8 and
  // are cut anywhere.
  std::size_t p = far;
  while (p > lo && far - p < 3 && continuation(text[p])) {
    --p;
  }
  if (p == lo || continuation(text[p])) {
    p = std::max(far, lo + 1);  // not even one code point fits: take one anyway
    while (p < text.size() && p - lo < 4 && continuation(text[p])) {
      ++p;
    }
  }
  return p;
}

// Where the chunk after [.., end) starts: the first word start after
// `start` from which the text up to `end` fits in `overlap`; `end` if none.
std::size_t overlapStart(std::string_view text, std::size_t start, std::size_t end,
                         std::uint64_t overlap) {
  std::size_t best = end;
  std::uint64_t words = 0;
  for (std::size_t q = end; q > start + 1; --q) {
    const char c = text[q - 1];
    words += !space(c) && (q == end || space(text[q])) ? 1 : 0;
    if (estimateTokens({end - (q - 1), words}) > overlap) {
      break;
    }
    if (!space(text[q - 1]) && space(text[q - 2])) {
      best = q - 1;
    }
  }
  return best;
}

}  // namespace

std::uint64_t estimateTextTokens(std::string_view text) noexcept {
  std::uint64_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    words += !space(c) && !in_word ? 1 : 0;
    in_word = !space(c);
  }
  return estimateTokens({text.size(), words});
}

std::vector<TextSpan> splitChunks(std::string_view text, std::uint64_t max_tokens,
                                  std::uint64_t overlap_tokens) {
  std::vector<TextSpan> chunks;
  const std::uint64_t overlap = std::min(overlap_tokens, max_tokens / 2);
  std::size_t start = 0;
  std::size_t done = 0;  // the end of the chunk before: the next one ends later
  const auto cutFrom = [&](std::size_t from) {
    const std::size_t far = farthestEnd(text, from, max_tokens);
    return far == text.size() ? far : chooseCut(text, std::max(from, done), far);
  };
  while (done < text.size()) {
    std::size_t end = cutFrom(start);
    if (start < done && estimateTextTokens(text.substr(start, end - start)) > max_tokens) {
      start = done;  // only one code point more fits after the overlap: no overlap then
      end = cutFrom(start);
    }
    chunks.push_back({start, end - start});
    done = end;
    start = overlap == 0 || end == text.size() ? end : overlapStart(text, start, end, overlap);
  }
  return chunks;
}

std::vector<std::size_t> groupForReduce(std::span<const std::uint64_t> tokens,
                                        std::uint64_t max_tokens) {
  std::vector<std::size_t> ends;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const bool fits = tokens[i] <= max_tokens && sum <= max_tokens - tokens[i];
    if (i > 0 && !fits) {
      ends.push_back(i);
      sum = 0;
    }
    sum += tokens[i];
  }
  if (!tokens.empty()) {
    ends.push_back(tokens.size());
  }
  if (tokens.size() >= 2 && ends.size() == tokens.size()) {
    ends.clear();
    for (std::size_t i = 2; i < tokens.size(); i += 2) {
      ends.push_back(i);
    }
    ends.push_back(tokens.size());
  }
  return ends;
}

}  // namespace dropd::file
