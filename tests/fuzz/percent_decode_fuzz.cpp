// percentDecode on any bytes: never longer than its input, the identity on
// text without '%' (and without '+' when '+' means a space), and decoding
// what percent-encoding every byte gives returns the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "dropd/base/percent_decode.hpp"

#include "fuzz_check.hpp"

using dropd::base::percentDecode;
using dropd::base::PlusIs;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string plain = percentDecode(text);
  const std::string form = percentDecode(text, PlusIs::kSpace);
  DROPD_FUZZ_CHECK(plain.size() <= size && form.size() == plain.size());
  if (text.find('%') == std::string_view::npos) {
    DROPD_FUZZ_CHECK(plain == text);
  }
  std::string encoded;
  for (const unsigned char c : text) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    encoded += buf;
  }
  DROPD_FUZZ_CHECK(percentDecode(encoded) == text);
  return 0;
}
