#include "dropd/base/utf8_decode.hpp"

#include <cstring>

namespace dropd::base {

namespace {

struct LeadInfo {
  std::size_t len;          // 0: not a lead byte (ASCII is len 1)
  unsigned char second_lo;  // allowed range of the second byte (Table 3-7)
  unsigned char second_hi;
};

constexpr LeadInfo leadInfo(unsigned char b) noexcept {
  if (b < 0x80) {
    return {1, 0, 0};
  }
  if (b >= 0xC2 && b <= 0xDF) {
    return {2, 0x80, 0xBF};
  }
  if (b == 0xE0) {
    return {3, 0xA0, 0xBF};  // below A0 is an overlong
  }
  if (b == 0xED) {
    return {3, 0x80, 0x9F};  // above 9F is a surrogate
  }
  if (b >= 0xE1 && b <= 0xEF) {
    return {3, 0x80, 0xBF};
  }
  if (b == 0xF0) {
    return {4, 0x90, 0xBF};  // below 90 is an overlong
  }
  if (b >= 0xF1 && b <= 0xF3) {
    return {4, 0x80, 0xBF};
  }
  if (b == 0xF4) {
    return {4, 0x80, 0x8F};  // above 8F is beyond U+10FFFF
  }
  return {0, 0, 0};  // continuation byte, C0, C1, F5..FF
}

constexpr bool isContinuation(unsigned char b) noexcept { return (b & 0xC0) == 0x80; }

}  // namespace

Utf8Step decodeUtf8Step(const unsigned char* p, std::size_t n) noexcept {
  const LeadInfo lead = leadInfo(p[0]);
  if (lead.len == 0) {
    return {Utf8StepKind::kInvalid, 1};
  }
  for (std::size_t i = 1; i < lead.len; ++i) {
    if (i >= n) {
      return {Utf8StepKind::kIncomplete, n};
    }
    const bool ok =
        i == 1 ? (p[1] >= lead.second_lo && p[1] <= lead.second_hi) : isContinuation(p[i]);
    if (!ok) {
      return {Utf8StepKind::kInvalid, i};  // the maximal subpart ends before p[i]
    }
  }
  return {Utf8StepKind::kValid, lead.len};
}

Utf8Counts decodeUtf8(const unsigned char* p, std::size_t n) noexcept {
  Utf8Counts counts;
  std::size_t i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time: invalid input is rare but may be large.
    std::uint64_t word = 0;
    if (n - i >= 8 && (std::memcpy(&word, p + i, 8), (word & 0x8080808080808080ULL) == 0)) {
      counts.code_points += 8;
      i += 8;
      continue;
    }
    const Utf8Step step = decodeUtf8Step(p + i, n - i);
    if (step.kind == Utf8StepKind::kValid) {
      ++counts.code_points;
    } else {
      counts.invalid_bytes += step.len;
    }
    i += step.len;
  }
  return counts;
}

std::size_t utf8CompletePrefix(const unsigned char* p, std::size_t n) noexcept {
  for (std::size_t k = 1; k <= 3 && k <= n; ++k) {
    const unsigned char b = p[n - k];
    if (isContinuation(b)) {
      continue;
    }
    return leadInfo(b).len > k ? n - k : n;
  }
  return n;
}

}  // namespace dropd::base
