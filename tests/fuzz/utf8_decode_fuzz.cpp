// The exact UTF-8 decoder on any bytes: every valid step decodes to a scalar
// value that re-encodes to the same bytes (no overlong, surrogate or value
// past U+10FFFF gets through), step lengths are bounded, decodeUtf8() is the
// sum of its steps, and splitting at utf8CompletePrefix() changes no count.

#include <cstddef>
#include <cstdint>

#include "dropd/base/utf8_decode.hpp"

#include "fuzz_check.hpp"

namespace {

using dropd::base::Utf8Counts;
using dropd::base::Utf8Step;
using dropd::base::Utf8StepKind;

std::size_t encodedLength(std::uint32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

// Checks one well-formed sequence independently of the decoder's table.
void checkValidSequence(const unsigned char* p, std::size_t len) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  DROPD_FUZZ_CHECK(len >= 1 && len <= 4);
  std::uint32_t cp = p[0] & kLeadMask[len];
  for (std::size_t i = 1; i < len; ++i) {
    DROPD_FUZZ_CHECK((p[i] & 0xC0) == 0x80);
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  // The lead announces `len`: 0xxxxxxx, 110xxxxx, 1110xxxx or 11110xxx.
  const unsigned lead_bits = static_cast<unsigned>(p[0]) >> (7 - len);
  DROPD_FUZZ_CHECK(len == 1 ? p[0] < 0x80 : lead_bits == (0xFFu >> (7 - len)) - 1);
  DROPD_FUZZ_CHECK(encodedLength(cp) == len);  // not overlong
  DROPD_FUZZ_CHECK(cp <= 0x10FFFF);
  DROPD_FUZZ_CHECK(cp < 0xD800 || cp > 0xDFFF);
}

Utf8Counts countBySteps(const unsigned char* p, std::size_t n) {
  Utf8Counts counts;
  std::size_t i = 0;
  while (i < n) {
    const Utf8Step step = dropd::base::decodeUtf8Step(p + i, n - i);
    DROPD_FUZZ_CHECK(step.len >= 1 && step.len <= 4 && step.len <= n - i);
    if (step.kind == Utf8StepKind::kValid) {
      checkValidSequence(p + i, step.len);
      ++counts.code_points;
    } else {
      // A maximal subpart never swallows the start of the next sequence.
      DROPD_FUZZ_CHECK(step.len == 1 || p[i] >= 0xC2);
      DROPD_FUZZ_CHECK(step.kind != Utf8StepKind::kIncomplete || step.len == n - i);
      counts.invalid_bytes += step.len;
    }
    i += step.len;
  }
  return counts;
}

bool operator==(const Utf8Counts& a, const Utf8Counts& b) {
  return a.code_points == b.code_points && a.invalid_bytes == b.invalid_bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  const Utf8Counts whole = dropd::base::decodeUtf8(p, size);
  DROPD_FUZZ_CHECK(whole == countBySteps(p, size));
  DROPD_FUZZ_CHECK(whole.code_points + whole.invalid_bytes <= size);

  const std::size_t prefix = dropd::base::utf8CompletePrefix(p, size);
  DROPD_FUZZ_CHECK(prefix <= size && size - prefix < 4);
  if (prefix < size) {
    DROPD_FUZZ_CHECK(p[prefix] >= 0xC0);  // the cut starts at a lead byte
    for (std::size_t i = prefix + 1; i < size; ++i) {
      DROPD_FUZZ_CHECK((p[i] & 0xC0) == 0x80);
    }
  }
  const Utf8Counts head = dropd::base::decodeUtf8(p, prefix);
  const Utf8Counts tail = dropd::base::decodeUtf8(p + prefix, size - prefix);
  const Utf8Counts sum{head.code_points + tail.code_points,
                       head.invalid_bytes + tail.invalid_bytes};
  DROPD_FUZZ_CHECK(whole == sum);
  return 0;
}
