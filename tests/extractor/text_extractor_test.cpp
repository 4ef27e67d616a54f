#include <string>

#include <catch2/catch.hpp>

#include "dropd/extractor/formats.hpp"

using namespace dropd::extractor;

namespace {

DecodedText decode(const std::string& bytes) {
  return decodeText({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
}

}  // namespace

TEST_CASE("decodeText detects the encoding and converts to UTF-8", "[extractor]") {
  SECTION("UTF-8, with or without its BOM") {
    CHECK(decode("caf\xC3\xA9").text == "caf\xC3\xA9");
    CHECK(decode("\xEF\xBB\xBF"
                 "caf\xC3\xA9")
              .text == "caf\xC3\xA9");
    CHECK(decode("caf\xC3\xA9").encoding == "UTF-8");
  }
  SECTION("UTF-16 little and big endian after a BOM, surrogate pairs joined") {
    const auto le =
        decode(std::string("\xFF\xFE"
                           "h\0i\0>\xD8\x8A\xDD",
                           10));
    CHECK(le.encoding == "UTF-16LE");
    CHECK(le.text == "hi\xF0\x9F\xA6\x8A");
    const auto be = decode(std::string("\xFE\xFF\0h\0\xE9", 6));
    CHECK(be.encoding == "UTF-16BE");
    CHECK(be.text == "h\xC3\xA9");
  }
  SECTION("a lone surrogate or an odd last byte is U+FFFD") {
    CHECK(decode(std::string("\xFF\xFE\x00\xD8"
                             "a\0",
                             6))
              .text ==
          "\xEF\xBF\xBD"
          "a");
    CHECK(decode(std::string("\xFF\xFE"
                             "a\0b",
                             5))
              .text == "a\xEF\xBF\xBD");
  }
  SECTION("anything else is Windows-1252") {
    const auto legacy = decode("caf\xE9 \x80 \x93q\x94 \x81");
    CHECK(legacy.encoding == "windows-1252");
    CHECK(legacy.text == "caf\xC3\xA9 \xE2\x82\xAC \xE2\x80\x9Cq\xE2\x80\x9D \xC2\x81");
  }
  SECTION("empty") { CHECK(decode("").text.empty()); }
}
