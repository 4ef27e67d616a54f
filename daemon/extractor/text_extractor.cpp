// Plain text: the encoding detected and converted to UTF-8 (formats.hpp).
//
// The choice, in order: a UTF-8 BOM (dropped); a UTF-16 BOM, little or big
// endian; text that is valid UTF-8 as it is; else Windows-1252, the 8-bit
// encoding most legacy Western text is in (a superset of ISO-8859-1's
// printable range, with its 0x80-0x9F as WHATWG maps them).
#include <algorithm>
#include <array>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/utf8_text.hpp"

namespace dropd::extractor {
namespace {

// Windows-1252's 0x80..0x9F (WHATWG's index; the five holes map to C1).
constexpr std::array<std::uint16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

std::string fromUtf16(Bytes bytes, bool big_endian) {
  std::string out;
  out.reserve(bytes.size());
  const auto unit = [&](std::size_t i) -> std::uint32_t {
    return big_endian ? (bytes[i] << 8 | bytes[i + 1]) : (bytes[i + 1] << 8 | bytes[i]);
  };
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    const std::uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 3 < bytes.size()) {
      const std::uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        appendCodePoint(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    appendCodePoint(out, u);  // a lone surrogate becomes U+FFFD
  }
  if (i < bytes.size()) {
    appendCodePoint(out, 0xFFFD);  // an odd last byte
  }
  return out;
}

std::string fromCp1252(Bytes bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (const unsigned char c : bytes) {
    appendCodePoint(out, c >= 0x80 && c <= 0x9F ? kCp1252High[c - 0x80] : c);
  }
  return out;
}

bool startsWith(Bytes bytes, std::initializer_list<unsigned char> prefix) {
  return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

}  // namespace

DecodedText decodeText(Bytes bytes) {
  if (startsWith(bytes, {0xEF, 0xBB, 0xBF})) {
    const Bytes rest = bytes.subspan(3);
    return {repairUtf8({reinterpret_cast<const char*>(rest.data()), rest.size()}), "UTF-8"};
  }
  if (startsWith(bytes, {0xFF, 0xFE})) {
    return {fromUtf16(bytes.subspan(2), false), "UTF-16LE"};
  }
  if (startsWith(bytes, {0xFE, 0xFF})) {
    return {fromUtf16(bytes.subspan(2), true), "UTF-16BE"};
  }
  if (base::decodeUtf8(bytes.data(), bytes.size()).invalid_bytes == 0) {
    return {repairUtf8({reinterpret_cast<const char*>(bytes.data()), bytes.size()}), "UTF-8"};
  }
  return {fromCp1252(bytes), "windows-1252"};
}

Outcome extractText(Bytes bytes, const extract::Options& options) {
  // Only what can be kept is decoded: max_chars code points take at most 4
  // bytes each in any of our encodings. The cut goes back to a whole UTF-8
  // sequence, so a cut file still reads as UTF-8.
  const std::uint64_t keep = options.max_chars > 0
                                 ? std::min<std::uint64_t>(options.max_chars * 4 + 4, kMaxTextBytes)
                                 : kMaxTextBytes;
  const bool cut = bytes.size() > keep;
  if (cut) {
    bytes = bytes.first(base::utf8CompletePrefix(bytes.data(), static_cast<std::size_t>(keep)));
  }
  DecodedText decoded = decodeText(bytes);
  extract::Document doc;
  doc.method = "text";
  doc.text = std::move(decoded.text);
  doc.truncated = cut;
  return doc;
}

}  // namespace dropd::extractor
