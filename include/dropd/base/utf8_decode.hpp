#pragma once

// Exact, scalar UTF-8 decoding per Unicode's Table 3-7 (well-formed byte
// sequences): overlongs, surrogates and code points above U+10FFFF are
// ill-formed. An ill-formed sequence is its maximal subpart (the longest prefix
// of a well-formed sequence, at least one byte); each of its bytes is one
// "invalid byte". Pure; any thread. The SIMD kernels only answer "valid or
// not"; this decoder gives the exact counts when the answer is "not".

#include <cstddef>
#include <cstdint>

namespace dropd::base {

enum class Utf8StepKind { kValid, kInvalid, kIncomplete };

struct Utf8Step {
  Utf8StepKind kind = Utf8StepKind::kValid;
  std::size_t len = 0;  // bytes taken: the sequence, the maximal subpart, or all n
};

// Decodes the sequence starting at p[0]; n >= 1. kIncomplete: the n bytes are
// a proper prefix of a well-formed sequence (more input could complete it).
[[nodiscard]] Utf8Step decodeUtf8Step(const unsigned char* p, std::size_t n) noexcept;

struct Utf8Counts {
  std::uint64_t code_points = 0;    // well-formed sequences
  std::uint64_t invalid_bytes = 0;  // bytes of ill-formed subparts (incl. truncated at end)
};

// Decodes p[0..n) as a whole stream (a prefix cut at the end is invalid).
[[nodiscard]] Utf8Counts decodeUtf8(const unsigned char* p, std::size_t n) noexcept;

// The length of the longest prefix of p[0..n) that does not end inside a
// sequence a later chunk could still complete: n, or the offset of a trailing
// lead byte followed by fewer continuation bytes than it announces.
[[nodiscard]] std::size_t utf8CompletePrefix(const unsigned char* p, std::size_t n) noexcept;

}  // namespace dropd::base
