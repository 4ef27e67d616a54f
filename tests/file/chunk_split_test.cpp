#include "dropd/file/chunk_split.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using dropd::file::estimateTextTokens;
using dropd::file::groupForReduce;
using dropd::file::splitChunks;
using dropd::file::TextSpan;

namespace {

std::string_view piece(std::string_view text, const TextSpan& s) {
  return text.substr(s.offset, s.size);
}

bool isContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A text of paragraphs of lines of words, with some long words and
// multi-byte characters, from a fixed seed.
std::string makeText(std::uint32_t seed, std::size_t words) {
  std::mt19937 rng(seed);
  const std::vector<std::string> vocabulary = {"the",   "ledger", "Straße", "日本語", "a",
                                               "chunk", "naïve",  "reduce", "x"};
  std::string text;
  for (std::size_t i = 0; i < words; ++i) {
    const std::uint32_t r = rng() % 100;
    if (r < 2) {
      text += std::string(50 + rng() % 200, 'w');  // a long word
    } else {
      text += vocabulary[rng() % vocabulary.size()];
    }
    const std::uint32_t sep = rng() % 40;
    text += sep == 0 ? "\n\n" : sep < 4 ? "\n" : sep == 4 ? "  \t" : " ";
  }
  return text;
}

// The invariants every split keeps (chunk_split.hpp).
void checkSplit(std::string_view text, std::uint64_t max, std::uint64_t overlap) {
  const auto chunks = splitChunks(text, max, overlap);
  if (text.empty()) {
    REQUIRE(chunks.empty());
    return;
  }
  REQUIRE(!chunks.empty());
  CHECK(chunks.front().offset == 0);
  CHECK(chunks.back().offset + chunks.back().size == text.size());
  std::size_t end_before = 0;
  std::string joined;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const TextSpan& c = chunks[i];
    REQUIRE(c.size > 0);
    const std::string_view p = piece(text, c);
    CHECK(!isContinuation(text[c.offset]));
    const std::size_t end = c.offset + c.size;
    CHECK((end == text.size() || !isContinuation(text[end])));
    CHECK(end > end_before);
    CHECK(c.offset <= end_before);  // no gap
    if (estimateTextTokens(p) > max) {
      // Only one code point may be over (a max below one code point).
      CHECK(c.size <= 4);
    }
    if (i > 0) {
      const std::string_view shared = text.substr(c.offset, end_before - c.offset);
      CHECK(estimateTextTokens(shared) <= std::min(overlap, max / 2));
      if (overlap == 0) {
        CHECK(c.offset == end_before);
      }
    }
    joined += text.substr(std::max(c.offset, end_before), end - std::max(c.offset, end_before));
    end_before = end;
  }
  CHECK(joined == text);
}

}  // namespace

TEST_CASE("splitChunks keeps a text that fits whole", "[file]") {
  CHECK(splitChunks("", 100, 0).empty());
  const std::string text = "one small paragraph.\n\nAnd another.";
  const auto chunks = splitChunks(text, 100, 10);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0] == TextSpan{0, text.size()});
}

TEST_CASE("splitChunks cuts at paragraphs, then lines, then words", "[file]") {
  const std::string para(200, 'p');  // ~62 tokens each
  SECTION("paragraphs") {
    const std::string text = para + "\n\n" + para + "\n\n" + para;
    const auto chunks = splitChunks(text, 80, 0);
    REQUIRE(chunks.size() == 3);
    CHECK(piece(text, chunks[0]) == para + "\n\n");
    CHECK(piece(text, chunks[2]) == para);
  }
  SECTION("lines when a paragraph does not fit") {
    const std::string line = "alpha beta gamma delta epsilon zeta eta theta\n";  // 46 bytes
    std::string text;
    for (int i = 0; i < 20; ++i) {
      text += line;
    }
    const auto chunks = splitChunks(text, 60, 0);
    REQUIRE(chunks.size() > 1);
    for (const TextSpan& c : chunks) {
      CHECK(piece(text, c).back() == '\n');
    }
    checkSplit(text, 60, 0);
  }
  SECTION("words when a line does not fit") {
    std::string text;
    for (int i = 0; i < 300; ++i) {
      text += "word" + std::to_string(i) + " ";
    }
    const auto chunks = splitChunks(text, 50, 0);
    REQUIRE(chunks.size() > 1);
    for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
      CHECK(piece(text, chunks[i]).back() == ' ');
    }
    checkSplit(text, 50, 0);
  }
  SECTION("a word longer than a chunk is cut between code points") {
    std::string text;
    for (int i = 0; i < 400; ++i) {
      text += "é";
    }
    checkSplit(text, 30, 0);
    checkSplit(text, 30, 10);
    CHECK(splitChunks(text, 30, 0).size() > 1);
  }
}

TEST_CASE("splitChunks overlaps chunks by whole words", "[file]") {
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text += "w" + std::to_string(i) + " ";
  }
  const auto chunks = splitChunks(text, 100, 20);
  REQUIRE(chunks.size() > 2);
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    const std::size_t end_before = chunks[i - 1].offset + chunks[i - 1].size;
    CHECK(chunks[i].offset < end_before);      // some overlap
    CHECK(text[chunks[i].offset - 1] == ' ');  // at a word start
  }
  checkSplit(text, 100, 20);
}

TEST_CASE("splitChunks holds its invariants on random texts", "[file]") {
  for (std::uint32_t seed = 1; seed <= 30; ++seed) {
    const std::string text = makeText(seed, 50 + seed * 40);
    for (const std::uint64_t max : {0u, 1u, 3u, 17u, 100u, 1000u}) {
      for (const std::uint64_t overlap : {0u, 1u, 8u, 60u, 2000u}) {
        INFO("seed " << seed << " max " << max << " overlap " << overlap);
        checkSplit(text, max, overlap);
      }
    }
  }
}

TEST_CASE("groupForReduce packs answers and always shrinks a round", "[file]") {
  using V = std::vector<std::uint64_t>;
  using E = std::vector<std::size_t>;
  CHECK(groupForReduce(V{}, 100).empty());
  CHECK(groupForReduce(V{500}, 100) == E{1});
  CHECK(groupForReduce(V{30, 30, 30, 30}, 100) == E{3, 4});
  CHECK(groupForReduce(V{30, 60, 50, 40}, 100) == E{2, 4});
  CHECK(groupForReduce(V{90, 90, 90}, 100) == E{2, 3});  // paired: over, but fewer
  SECTION("random rounds end") {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
      V tokens(1 + rng() % 50);
      for (auto& t : tokens) {
        t = rng() % 300;
      }
      const auto ends = groupForReduce(tokens, 100 + rng() % 200);
      REQUIRE(!ends.empty());
      CHECK(ends.back() == tokens.size());
      CHECK((tokens.size() < 2 || ends.size() < tokens.size()));
      for (std::size_t i = 1; i < ends.size(); ++i) {
        CHECK(ends[i] > ends[i - 1]);
      }
    }
  }
}

TEST_CASE("splitChunks of 2 MiB of text", "[.][bench]") {
  const std::string text = makeText(3, 350'000);
  BENCHMARK("splitChunks max 3000") { return splitChunks(text, 3000, 0).size(); };
  BENCHMARK("splitChunks max 3000 overlap 200") { return splitChunks(text, 3000, 200).size(); };
  BENCHMARK("estimateTextTokens") { return estimateTextTokens(text); };
}
