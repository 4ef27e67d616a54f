// chunkSizeOf() on any line: an accepted line starts with the returned
// size, which is one or more hex digits, and holds no CR, LF or NUL (so
// nothing it accepts can end a line early or hide a second one); the
// size alone, and the size with one more extension, are accepted too.

#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/net/chunk_line.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line{reinterpret_cast<const char*>(data), size};
  const auto digits = dropd::net::chunkSizeOf(line);
  if (!digits) {
    return 0;
  }
  DROPD_FUZZ_CHECK(!digits->empty());
  DROPD_FUZZ_CHECK(line.starts_with(*digits));
  DROPD_FUZZ_CHECK(digits->find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos);
  DROPD_FUZZ_CHECK(line.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos);
  DROPD_FUZZ_CHECK(dropd::net::chunkSizeOf(*digits) == digits);
  const std::string longer = std::string(line) + ";x=\"y\"";
  DROPD_FUZZ_CHECK(dropd::net::chunkSizeOf(longer) == digits);
  return 0;
}
