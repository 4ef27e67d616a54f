// The AVX2 kernel: 64 bytes per step. Newlines, whitespace, continuation,
// non-ASCII and NUL bytes become 64-bit masks counted with popcnt; word starts
// are non-space bytes whose predecessor is a space (mask shifted by one, the
// last bit carried to the next step). UTF-8 is checked only in steps that
// hold a non-ASCII byte, with the "lookup" algorithm of Keiser and Lemire,
// "Validating UTF-8 in less than one instruction per byte" (2021), as in
// simdjson/simdutf: three nibble table lookups on each byte and its
// predecessor flag every two-byte error, and a check of the bytes two and
// three back finds missing or extra continuation bytes.
//
// Only the functions below are compiled for AVX2 (target attribute), and this
// file uses no inline functions from other headers, so no AVX2 code can leak
// into code that runs on CPUs without it.

#include "dropd/file/stats_kernel.hpp"

#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define DROPD_AVX2 __attribute__((target("avx2,popcnt,bmi")))

namespace dropd::file {

namespace {

// Error classes of a byte pair (previous byte, current byte); see the paper.
constexpr char kTooShort = 1 << 0;                     // lead then ASCII or lead then lead
constexpr char kTooLong = 1 << 1;                      // ASCII then continuation
constexpr char kOverlong3 = 1 << 2;                    // E0 80..9F
constexpr char kTooLarge = 1 << 3;                     // F4 90..BF, F5..FF then continuation
constexpr char kSurrogate = 1 << 4;                    // ED A0..BF
constexpr char kOverlong2 = 1 << 5;                    // C0, C1 then continuation
constexpr char kTooLarge1000 = 1 << 6;                 // F5..FF 80..8F
constexpr char kOverlong4 = 1 << 6;                    // F0 80..8F
constexpr char kTwoConts = static_cast<char>(1 << 7);  // continuation then continuation
constexpr char kCarry = kTooShort | kTooLong | kTwoConts;

struct State {
  __m256i prev_input;         // the previous 32 bytes
  __m256i prev_incomplete;    // nonzero if they end inside a sequence
  __m256i error;              // nonzero once any error was seen
  std::uint64_t space_carry;  // 1 if the byte before the step is whitespace
};

DROPD_AVX2 inline __m256i table16(char a0, char a1, char a2, char a3, char a4, char a5, char a6,
                                  char a7, char a8, char a9, char a10, char a11, char a12, char a13,
                                  char a14, char a15) {
  return _mm256_setr_epi8(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a0,
                          a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
}

DROPD_AVX2 inline __m256i highNibble(__m256i v) {
  return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}

DROPD_AVX2 inline __m256i specialCases(__m256i input, __m256i prev1) {
  const __m256i byte1_high = _mm256_shuffle_epi8(
      table16(kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong, kTooLong,
              kTwoConts, kTwoConts, kTwoConts, kTwoConts, kTooShort | kOverlong2, kTooShort,
              kTooShort | kOverlong3 | kSurrogate,
              kTooShort | kTooLarge | kTooLarge1000 | kOverlong4),
      highNibble(prev1));
  constexpr char kLarge = kCarry | kTooLarge | kTooLarge1000;
  const __m256i byte1_low = _mm256_shuffle_epi8(
      table16(kCarry | kOverlong3 | kOverlong2 | kOverlong4, kCarry | kOverlong2, kCarry, kCarry,
              kCarry | kTooLarge, kLarge, kLarge, kLarge, kLarge, kLarge, kLarge, kLarge, kLarge,
              kLarge | kSurrogate, kLarge, kLarge),
      _mm256_and_si256(prev1, _mm256_set1_epi8(0x0F)));
  constexpr char kCont1000 =
      kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge1000 | kOverlong4;
  constexpr char kCont1001 = kTooLong | kOverlong2 | kTwoConts | kOverlong3 | kTooLarge;
  constexpr char kCont101 = kTooLong | kOverlong2 | kTwoConts | kSurrogate | kTooLarge;
  const __m256i byte2_high =
      _mm256_shuffle_epi8(table16(kTooShort, kTooShort, kTooShort, kTooShort, kTooShort, kTooShort,
                                  kTooShort, kTooShort, kCont1000, kCont1001, kCont101, kCont101,
                                  kTooShort, kTooShort, kTooShort, kTooShort),
                          highNibble(input));
  return _mm256_and_si256(_mm256_and_si256(byte1_high, byte1_low), byte2_high);
}

// Bytes that must be a third or fourth byte (two after an E_ lead, three after
// an F_ lead) have to be continuations: the special cases flag every
// continuation (kTwoConts), so XOR cancels exactly the expected ones.
DROPD_AVX2 inline void checkVector(__m256i input, __m256i prev_input, State& s) {
  const __m256i carried = _mm256_permute2x128_si256(prev_input, input, 0x21);
  const __m256i prev1 = _mm256_alignr_epi8(input, carried, 16 - 1);
  const __m256i prev2 = _mm256_alignr_epi8(input, carried, 16 - 2);
  const __m256i prev3 = _mm256_alignr_epi8(input, carried, 16 - 3);
  const __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8(0xE0 - 0x80));
  const __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8(static_cast<char>(0xF0 - 0x80)));
  const __m256i must23 =
      _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8(static_cast<char>(0x80)));
  s.error = _mm256_or_si256(s.error, _mm256_xor_si256(must23, specialCases(input, prev1)));
}

// Nonzero if the last three bytes start a sequence longer than what is left.
DROPD_AVX2 inline __m256i incompleteAtEnd(__m256i input) {
  const __m256i max_ok =
      _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, static_cast<char>(0xF0 - 1),
                       static_cast<char>(0xE0 - 1), static_cast<char>(0xC0 - 1));
  return _mm256_subs_epu8(input, max_ok);
}

DROPD_AVX2 inline std::uint64_t mask64(__m256i lo, __m256i hi) {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(lo)) |
         (static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))) << 32);
}

// Whitespace by table lookup on the low nibble: the table holds, for each
// nibble, the one whitespace byte with that nibble (or a byte no input with
// that nibble equals); bytes >= 0x80 look up 0 and never match.
DROPD_AVX2 inline __m256i isSpace(__m256i v) {
  const __m256i table =
      table16(' ', -1, -1, -1, -1, -1, -1, -1, -1, '\t', '\n', '\v', '\f', '\r', -1, -1);
  return _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, v), v);
}

DROPD_AVX2 inline int popcount(std::uint64_t m) { return __builtin_popcountll(m); }

// Per-lane byte counters (a compare gives -1, subtracting it adds 1), summed
// into 64-bit totals before they can wrap: a step adds at most 2 to a lane.
struct ByteCounters {
  __m256i lines;
  __m256i nul;
  __m256i continuation;
};
constexpr std::size_t kStepsPerFlush = 127;

DROPD_AVX2 inline std::uint64_t sumBytes(__m256i counters) {
  const __m256i sums = _mm256_sad_epu8(counters, _mm256_setzero_si256());
  return static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 0)) +
         static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 1)) +
         static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 2)) +
         static_cast<std::uint64_t>(_mm256_extract_epi64(sums, 3));
}

DROPD_AVX2 inline void flush(ByteCounters& k, RegionCounts& c) {
  c.lines += sumBytes(k.lines);
  c.nul += sumBytes(k.nul);
  c.continuation += sumBytes(k.continuation);
  k = ByteCounters{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
}

DROPD_AVX2 inline __m256i countEqual(__m256i counter, __m256i v0, __m256i v1, __m256i x) {
  counter = _mm256_sub_epi8(counter, _mm256_cmpeq_epi8(v0, x));
  return _mm256_sub_epi8(counter, _mm256_cmpeq_epi8(v1, x));
}

DROPD_AVX2 inline void step64(const unsigned char* p, State& s, ByteCounters& k, RegionCounts& c) {
  const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const __m256i zero = _mm256_setzero_si256();
  k.lines = countEqual(k.lines, v0, v1, _mm256_set1_epi8('\n'));
  k.nul = countEqual(k.nul, v0, v1, zero);
  const std::uint64_t space = mask64(isSpace(v0), isSpace(v1));
  c.words += popcount(~space & ((space << 1) | s.space_carry));
  s.space_carry = space >> 63;
  const std::uint64_t high = mask64(v0, v1);
  if (high == 0) {
    s.error = _mm256_or_si256(s.error, s.prev_incomplete);
    s.prev_incomplete = zero;
  } else {
    c.non_ascii += popcount(high);
    // Continuation bytes are 0x80..0xBF, i.e. -128..-65 as signed bytes.
    const __m256i below_c0 = _mm256_set1_epi8(-64);
    k.continuation = _mm256_sub_epi8(k.continuation, _mm256_cmpgt_epi8(below_c0, v0));
    k.continuation = _mm256_sub_epi8(k.continuation, _mm256_cmpgt_epi8(below_c0, v1));
    checkVector(v0, s.prev_input, s);
    checkVector(v1, v0, s);
    s.prev_incomplete = incompleteAtEnd(v1);
  }
  s.prev_input = v1;
}

}  // namespace

DROPD_AVX2 RegionCounts countRegionAvx2(const unsigned char* p, std::size_t n,
                                        bool in_word) noexcept {
  RegionCounts c;
  State s{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
          in_word ? 0U : 1U};
  ByteCounters k{_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  std::size_t i = 0;
  while (i + 64 <= n) {
    const std::size_t steps = std::min((n - i) / 64, kStepsPerFlush);
    for (std::size_t j = 0; j < steps; ++j, i += 64) {
      step64(p + i, s, k, c);
    }
    flush(k, c);
  }
  if (i < n) {
    // Pad with spaces: they count as nothing, end any word, and make a
    // sequence cut at the region's end an error, as it must be.
    unsigned char tail[64];
    std::memset(tail, ' ', sizeof tail);
    std::memcpy(tail, p + i, n - i);
    step64(tail, s, k, c);
    flush(k, c);
  }
  s.error = _mm256_or_si256(s.error, s.prev_incomplete);
  c.utf8_valid = _mm256_testz_si256(s.error, s.error) != 0;
  c.in_word = n == 0 ? in_word : !isAsciiSpace(p[n - 1]);
  return c;
}

bool avx2Supported() noexcept { return __builtin_cpu_supports("avx2") != 0; }

}  // namespace dropd::file

#else  // not x86-64: the scalar kernel only

namespace dropd::file {

RegionCounts countRegionAvx2(const unsigned char* p, std::size_t n, bool in_word) noexcept {
  return countRegionScalar(p, n, in_word);
}

bool avx2Supported() noexcept { return false; }

}  // namespace dropd::file

#endif
