#include "dropd/extractor/utf8_text.hpp"

#include <catch2/catch.hpp>

using namespace dropd::extractor;

TEST_CASE("repairUtf8 replaces each ill-formed subpart and drops NUL", "[extractor]") {
  CHECK(repairUtf8("plain") == "plain");
  CHECK(repairUtf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(repairUtf8(std::string("a\0b", 3)) == "ab");
  CHECK(repairUtf8("a\xFF"
                   "b") ==
        "a\xEF\xBF\xBD"
        "b");
  SECTION("a cut sequence at the end is one U+FFFD") {
    CHECK(repairUtf8("x\xE2\x82") == "x\xEF\xBF\xBD");
  }
  SECTION("surrogates and overlongs are ill-formed") {
    CHECK(repairUtf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(repairUtf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  }
  CHECK(repairUtf8("").empty());
}

TEST_CASE("codePointPrefix cuts between code points", "[extractor]") {
  const std::string text =
      "a\xC3\xA9\xF0\x9F\xA6\x8A"
      "b";  // a é 🦊 b
  CHECK(countCodePoints(text) == 4);
  CHECK(codePointPrefix(text, 0) == 0);
  CHECK(codePointPrefix(text, 1) == 1);
  CHECK(codePointPrefix(text, 2) == 3);
  CHECK(codePointPrefix(text, 3) == 7);
  CHECK(codePointPrefix(text, 4) == text.size());
  CHECK(codePointPrefix(text, 100) == text.size());
  CHECK(codePointPrefix("", 3) == 0);
}

TEST_CASE("appendCodePoint writes UTF-8 and replaces what has none", "[extractor]") {
  std::string out;
  appendCodePoint(out, 'A');
  appendCodePoint(out, 0xE9);
  appendCodePoint(out, 0x20AC);
  appendCodePoint(out, 0x1F98A);
  CHECK(out == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x8A");
  out.clear();
  appendCodePoint(out, 0xD800);
  appendCodePoint(out, 0x110000);
  CHECK(out == "\xEF\xBF\xBD\xEF\xBF\xBD");
}
