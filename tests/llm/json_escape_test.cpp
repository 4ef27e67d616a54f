#include "dropd/llm/json_escape.hpp"

#include <random>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dropd::llm::appendJsonEscaped;

namespace {

std::string escaped(std::string_view in) {
  std::string out = "\"";
  appendJsonEscaped(out, in);
  out += '"';
  return out;
}

// Parses the escaped literal back; the test fails if it is not valid JSON.
std::string roundTrip(std::string_view in) {
  const auto doc = nlohmann::json::parse(escaped(in), nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc.get<std::string>();
}

}  // namespace

TEST_CASE("appendJsonEscaped keeps valid UTF-8 and escapes what JSON requires", "[llm]") {
  SECTION("plain text and multi-byte characters pass unchanged") {
    const std::string text = "Grüße, 日本語 and 🎉 ok";
    CHECK(escaped(text) == "\"" + text + "\"");
  }
  SECTION("quotes, backslashes and control bytes are escaped") {
    CHECK(escaped("a\"b\\c\nd\te\r\x01\x7f") == "\"a\\\"b\\\\c\\nd\\te\\r\\u0001\x7f\"");
    CHECK(roundTrip(std::string("nul\0byte", 8)) == std::string("nul\0byte", 8));
  }
  SECTION("empty input gives an empty literal") { CHECK(escaped("") == "\"\""); }
}

TEST_CASE("appendJsonEscaped replaces each maximal invalid subpart with U+FFFD", "[llm]") {
  const std::string r = "\xEF\xBF\xBD";
  CHECK(roundTrip("a\xFF"
                  "b") == "a" + r + "b");
  CHECK(roundTrip("\xC3") == r);                          // truncated at the end
  CHECK(roundTrip("\xE2\x82") == r);                      // truncated 3-byte sequence: one subpart
  CHECK(roundTrip("\xE0\x80\xAF") == r + r + r);          // overlong: every byte on its own
  CHECK(roundTrip("\xED\xA0\x80") == r + r + r);          // surrogate U+D800
  CHECK(roundTrip("\xF4\x90\x80\x80") == r + r + r + r);  // above U+10FFFF
  CHECK(roundTrip("\x80\xBF") == r + r);                  // lone continuation bytes
  CHECK(roundTrip("\xF0\x9F\x8E"
                  "x") == r + "x");  // cut 4-byte sequence, then ASCII
}

TEST_CASE("appendJsonEscaped output is always valid JSON on random bytes", "[llm]") {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int n = 0; n < 2000; ++n) {
    std::string in(static_cast<size_t>(n % 97), '\0');
    for (char& c : in) {
      c = static_cast<char>(byte(rng));
    }
    const auto doc = nlohmann::json::parse(escaped(in), nullptr, false);
    REQUIRE_FALSE(doc.is_discarded());
  }
}
