#include "dropd/file/stats.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/file/stats_kernel.hpp"
#include "dropd/file/token_estimate.hpp"

using dropd::file::computeStats;
using dropd::file::Stats;
using dropd::file::StatsAccumulator;

namespace {

std::span<const std::byte> asBytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

Stats statsOf(std::string_view s) { return computeStats(asBytes(s)); }

// An independent, obviously correct reference: decode each position as a
// code point and check its range, else count one invalid byte and move on
// (the same counts as Python's decode("utf-8", "surrogateescape")).
struct Reference {
  std::uint64_t lines = 0, words = 0, chars = 0, invalid = 0, nul = 0;
};

std::size_t referenceSequence(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const std::size_t len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (len == 0 || b > 0xF7 || i + len > s.size()) {
    return 0;
  }
  std::uint32_t cp = len == 1 ? b : b & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  const bool ok = cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
  return ok ? len : 0;
}

Reference reference(std::string_view s) {
  Reference r;
  bool in_word = false;
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    const bool space = b == ' ' || (b >= 9 && b <= 13);
    r.lines += b == '\n';
    r.nul += b == 0;
    r.words += !space && !in_word;
    in_word = !space;
  }
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = referenceSequence(s, i);
    r.chars += 1;
    r.invalid += len == 0;
    i += len == 0 ? 1 : len;
  }
  return r;
}

void requireMatchesReference(const Stats& st, std::string_view s) {
  const Reference r = reference(s);
  REQUIRE(st.bytes == s.size());
  REQUIRE(st.lines == r.lines);
  REQUIRE(st.words == r.words);
  REQUIRE(st.chars == r.chars);
  REQUIRE(st.invalid_utf8_bytes == r.invalid);
  REQUIRE(st.utf8_valid == (r.invalid == 0));
  REQUIRE(st.nul_bytes == r.nul);
}

// Feeds s in pieces cut at `cuts` (ascending offsets).
Stats statsInPieces(std::string_view s, const std::vector<std::size_t>& cuts) {
  StatsAccumulator acc;
  std::size_t from = 0;
  for (const std::size_t cut : cuts) {
    acc.feed(asBytes(s.substr(from, cut - from)));
    from = cut;
  }
  acc.feed(asBytes(s.substr(from)));
  return std::move(acc).finish();
}

bool sameStats(const Stats& a, const Stats& b) {
  return a.bytes == b.bytes && a.lines == b.lines && a.words == b.words && a.chars == b.chars &&
         a.utf8_valid == b.utf8_valid && a.sha256 == b.sha256 &&
         a.estimated_tokens == b.estimated_tokens && a.nul_bytes == b.nul_bytes &&
         a.invalid_utf8_bytes == b.invalid_utf8_bytes && a.non_ascii_bytes == b.non_ascii_bytes;
}

}  // namespace

TEST_CASE("Stats of empty input are all zero and valid", "[file]") {
  const Stats st = statsOf("");
  CHECK(st.bytes == 0);
  CHECK(st.lines == 0);
  CHECK(st.words == 0);
  CHECK(st.chars == 0);
  CHECK(st.utf8_valid);
  CHECK(st.estimated_tokens == 0);
  CHECK(st.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK_FALSE(dropd::file::looksBinary(st));
}

TEST_CASE("Stats follow INTERFACE.md where GNU wc differs", "[file]") {
  SECTION("NBSP U+00A0 does not split a word") {
    // GNU wc -w: 2 under LC_ALL=C.UTF-8 (NBSP is a space there), 1 under LC_ALL=C.
    const Stats st = statsOf(
        "a\xC2\xA0"
        "b");
    CHECK(st.words == 1);
    CHECK(st.chars == 3);
  }
  SECTION("an ideographic space U+3000 does not split a word") {
    // GNU wc -w: 2 under C.UTF-8, 1 under C.
    CHECK(statsOf("a\xE3\x80\x80"
                  "b")
              .words == 1);
  }
  SECTION("tokens made only of non-ASCII bytes are words") {
    // GNU wc -w: 3 under C.UTF-8, 1 under C (no printable ASCII byte in the first two).
    const Stats st = statsOf("日本語 — x");
    CHECK(st.words == 3);
    CHECK(st.chars == 7);
  }
  SECTION("tokens made only of control bytes are words") {
    // GNU wc -w: 1 under both C and C.UTF-8 (\x01\x02 is not printable).
    CHECK(statsOf("\x01\x02 a").words == 2);
  }
  SECTION("\\v and \\f separate words") {
    // GNU wc -w: 3 under both locales (the same answer).
    CHECK(statsOf("a\vb\fc").words == 3);
  }
  SECTION("CRLF counts one line per \\n, \\r is whitespace and a char") {
    // GNU wc -lwm under C.UTF-8: 2 2 6 (the same answer).
    const Stats st = statsOf("a\r\nb\r\n");
    CHECK(st.lines == 2);
    CHECK(st.words == 2);
    CHECK(st.chars == 6);
  }
  SECTION("a last line without \\n is not counted") { CHECK(statsOf("a\nb").lines == 1); }
}

TEST_CASE("Invalid UTF-8 counts one char per invalid byte", "[file]") {
  const std::string base = "h\xC3\xA9llo w\xC3\xB6rld \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80!";
  struct Case {
    const char* name;
    std::string bytes;
    std::uint64_t invalid;  // when inserted between whole characters
  };
  const std::vector<Case> cases = {
      {"lone continuation", "\x80", 1},
      {"two continuations", "\x80\xBF", 2},
      {"overlong 2-byte", "\xC0\xAF", 2},
      {"overlong 3-byte", "\xE0\x80\xAF", 3},
      {"overlong 4-byte", "\xF0\x80\x80\xAF", 4},
      {"surrogate", "\xED\xA0\x80", 3},
      {"above U+10FFFF", "\xF4\x90\x80\x80", 4},
      {"F5 lead", "\xF5\x80\x80\x80", 4},
      {"FF byte", "\xFF", 1},
      {"truncated 2-byte", "\xC3", 1},
      {"truncated 3-byte", "\xE2\x82", 2},
      {"truncated 4-byte", "\xF0\x9F\x98", 3},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      for (std::size_t at = 0; at <= base.size(); ++at) {
        INFO("inserted at " << at);
        const std::string s = base.substr(0, at) + c.bytes + base.substr(at);
        const Stats st = statsOf(s);
        requireMatchesReference(st, s);
        CHECK_FALSE(st.utf8_valid);
      }
      const Stats alone = statsOf(base + c.bytes);  // at the end: truncated at EOF
      CHECK(alone.invalid_utf8_bytes == c.invalid);
      CHECK(alone.chars == statsOf(base).chars + c.invalid);
    }
  }
  SECTION("valid sequences at the range limits are valid") {
    const Stats st = statsOf(
        "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xF0\x90\x80\x80"
        "\xF4\x8F\xBF\xBF");
    CHECK(st.utf8_valid);
    CHECK(st.chars == 7);
  }
}

TEST_CASE("Stats fed in pieces equal the stats of the whole buffer", "[file]") {
  const std::vector<std::string> inputs = {
      "caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E "
      "\xF0\x9F\x9A\x80\n",
      "  word\t\t\n\n\v\f  x\xC2\xA0y  ",
      "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xE2\x82\xAC\xE2\x82\xAC\xC3\xA9",
      "bad \xE2\x82 \xF0\x9F\x98 \xC3 \xED\xA0\x80 \x80\x80 \xF4\x90\x80\x80 end\xE2",
  };
  for (const std::string& s : inputs) {
    const Stats whole = statsOf(s);
    requireMatchesReference(whole, s);
    SECTION("two pieces at every split of input " + std::to_string(&s - inputs.data())) {
      for (std::size_t i = 0; i <= s.size(); ++i) {
        INFO("split at " << i);
        REQUIRE(sameStats(statsInPieces(s, {i}), whole));
      }
    }
    SECTION("three pieces at every pair of splits of input " + std::to_string(&s - inputs.data())) {
      for (std::size_t i = 0; i <= s.size(); ++i) {
        for (std::size_t j = i; j <= s.size(); ++j) {
          INFO("splits at " << i << " and " << j);
          REQUIRE(sameStats(statsInPieces(s, {i, j}), whole));
        }
      }
    }
    SECTION("one byte at a time, input " + std::to_string(&s - inputs.data())) {
      std::vector<std::size_t> cuts;
      for (std::size_t i = 1; i < s.size(); ++i) {
        cuts.push_back(i);
      }
      REQUIRE(sameStats(statsInPieces(s, cuts), whole));
    }
  }
}

namespace {

// Random bytes biased towards what the kernels branch on: ASCII text,
// whitespace, NUL, valid multi-byte characters and every kind of bad byte.
std::string randomText(std::mt19937& rng, std::size_t n) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   " ",
                                                   "\n",
                                                   "\t",
                                                   "\r",
                                                   "\v",
                                                   "\f",
                                                   std::string(1, '\0'),
                                                   "\x01",
                                                   "\xC3\xA9",
                                                   "\xE2\x80\x94",
                                                   "\xF0\x9F\x98\x80",
                                                   "\xC2\xA0",
                                                   "\x80",
                                                   "\xBF",
                                                   "\xC0",
                                                   "\xC1",
                                                   "\xE0\x80",
                                                   "\xED\xA0",
                                                   "\xF4\x90",
                                                   "\xF5",
                                                   "\xFF",
                                                   "\xE2",
                                                   "\xF0\x9F",
                                                   "\xF4\x8F\xBF\xBF",
                                                   "\xEF\xBF\xBF"};
  const bool mostly_valid = rng() % 2 == 0;
  std::string s;
  while (s.size() < n) {
    const std::size_t limit = mostly_valid && rng() % 64 != 0 ? 14 : kPieces.size();
    s += kPieces[rng() % limit];
  }
  s.resize(n);
  return s;
}

}  // namespace

TEST_CASE("Stats of random input match the reference in random pieces", "[file]") {
  std::mt19937 rng(20261124);
  for (int round = 0; round < 400; ++round) {
    const std::string s = randomText(rng, rng() % 2000);
    const Stats whole = statsOf(s);
    requireMatchesReference(whole, s);
    std::vector<std::size_t> cuts;
    for (std::size_t at = rng() % 100; at < s.size(); at += 1 + rng() % 200) {
      cuts.push_back(at);
    }
    REQUIRE(sameStats(statsInPieces(s, cuts), whole));
  }
}

TEST_CASE("SIMD and scalar kernels agree", "[file]") {
  if (!dropd::file::avx2Supported()) {
    WARN("no AVX2 on this CPU: only the scalar kernel runs");
    return;
  }
  std::mt19937 rng(42);
  std::vector<unsigned char> buffer(4096 + 64);
  for (int round = 0; round < 3000; ++round) {
    const std::size_t n = round < 300 ? static_cast<std::size_t>(round) : rng() % 4096;
    const std::size_t offset = rng() % 64;
    const std::string s = randomText(rng, n);
    std::copy(s.begin(), s.end(), buffer.begin() + static_cast<std::ptrdiff_t>(offset));
    const unsigned char* p = buffer.data() + offset;
    const bool in_word = rng() % 2 == 0;
    const auto scalar = dropd::file::countRegionScalar(p, n, in_word);
    const auto simd = dropd::file::countRegionAvx2(p, n, in_word);
    INFO("length " << n << " offset " << offset);
    REQUIRE(simd.lines == scalar.lines);
    REQUIRE(simd.words == scalar.words);
    REQUIRE(simd.continuation == scalar.continuation);
    REQUIRE(simd.non_ascii == scalar.non_ascii);
    REQUIRE(simd.nul == scalar.nul);
    REQUIRE(simd.utf8_valid == scalar.utf8_valid);
    REQUIRE(simd.in_word == scalar.in_word);
  }
}

TEST_CASE("SIMD validator agrees on every two-byte and three-byte pattern", "[file]") {
  if (!dropd::file::avx2Supported()) {
    return;
  }
  // Place each pattern at every offset across a 32- and 64-byte boundary.
  for (unsigned a = 0x80; a < 0x100; ++a) {
    for (unsigned b = 0; b < 0x100; b += (b < 0x80 ? 0x3F : 1)) {
      for (unsigned c : {0x41U, 0x80U, 0x90U, 0xA0U, 0xBFU, 0xC3U}) {
        for (std::size_t at : {0UL, 29UL, 30UL, 31UL, 61UL, 62UL, 63UL, 64UL}) {
          std::string s(70, 'x');
          s[at] = static_cast<char>(a);
          s[at + 1] = static_cast<char>(b);
          s[at + 2] = static_cast<char>(c);
          const auto* p = reinterpret_cast<const unsigned char*>(s.data());
          const bool scalar = dropd::file::countRegionScalar(p, s.size(), false).utf8_valid;
          const bool simd = dropd::file::countRegionAvx2(p, s.size(), false).utf8_valid;
          INFO(std::hex << a << " " << b << " " << c << " at " << std::dec << at);
          REQUIRE(simd == scalar);
        }
      }
    }
  }
}

TEST_CASE("Stats compute SHA-256 known vectors", "[file]") {
  SECTION("abc") {
    CHECK(statsOf("abc").sha256 ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
  SECTION("two blocks") {
    CHECK(statsOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").sha256 ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
  SECTION("a million 'a' fed in uneven chunks") {
    const std::string a(1000000, 'a');
    CHECK(statsInPieces(a, {1, 63, 64, 65, 100000, 777777}).sha256 ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST_CASE("looksBinary flags NUL bytes and mostly invalid UTF-8", "[file]") {
  CHECK(dropd::file::looksBinary(statsOf(std::string_view("text\0more", 9))));
  CHECK_FALSE(dropd::file::looksBinary(statsOf("caf\xE9 au lait, Latin-1 but mostly ASCII")));
  CHECK(dropd::file::looksBinary(statsOf("\xFF\xFE\xFD\xFC\x80\x81 ab")));
  CHECK_FALSE(dropd::file::looksBinary(statsOf("plain text\n")));
}

TEST_CASE("Token estimate follows its documented formula and is total", "[file]") {
  using dropd::file::estimateTokens;
  CHECK(estimateTokens({.bytes = 0, .words = 0}) == 0);
  CHECK(estimateTokens({.bytes = 1024, .words = 0}) == 320);
  CHECK(estimateTokens({.bytes = 1024, .words = 200}) == (1024 * 320 + 512 - 200 * 87) / 1024);
  CHECK(estimateTokens({.bytes = 1, .words = 1}) == 0);                   // never below zero
  CHECK(estimateTokens({.bytes = UINT64_MAX, .words = UINT64_MAX}) > 0);  // no overflow
  CHECK(statsOf("hello world, this is a test\n").estimated_tokens ==
        estimateTokens({.bytes = 28, .words = 6}));
}
