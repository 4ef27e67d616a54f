// Plain text decoding and the UTF-8 helpers on any bytes: decodeText and
// repairUtf8 give valid UTF-8 without NUL; valid UTF-8 without NUL or BOM
// comes back unchanged; codePointPrefix never splits a code point and keeps
// min(n, count) of them.

#include <cstddef>
#include <cstdint>
#include <string>

#include "dropd/extractor/formats.hpp"

#include "extract_common.hpp"
#include "fuzz_input.hpp"

using namespace dropd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const extractor::DecodedText decoded = extractor::decodeText(fuzz::bytesOf(data, size));
  DROPD_FUZZ_CHECK(fuzz::validUtf8(decoded.text));
  DROPD_FUZZ_CHECK(decoded.text.find('\0') == std::string::npos || decoded.encoding != "UTF-8");
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const std::string repaired = extractor::repairUtf8(raw);
  DROPD_FUZZ_CHECK(fuzz::validUtf8(repaired));
  DROPD_FUZZ_CHECK(repaired.find('\0') == std::string::npos);
  if (fuzz::validUtf8(raw) && raw.find('\0') == std::string_view::npos &&
      raw.substr(0, 3) != "\xEF\xBB\xBF" && raw.substr(0, 2) != "\xFF\xFE" &&
      raw.substr(0, 2) != "\xFE\xFF") {
    DROPD_FUZZ_CHECK(decoded.text == raw && repaired == raw);
  }
  const std::uint64_t count = extractor::countCodePoints(repaired);
  const std::uint64_t n = size == 0 ? 0 : data[0] % 64;
  const std::size_t cut = extractor::codePointPrefix(repaired, n);
  DROPD_FUZZ_CHECK(fuzz::validUtf8(std::string_view(repaired).substr(0, cut)));
  DROPD_FUZZ_CHECK(extractor::countCodePoints(std::string_view(repaired).substr(0, cut)) ==
                   std::min(n, count));
  return 0;
}
