#include "dropd/pipeline/send_estimate.hpp"

#include <limits>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dropd::pipeline::estimateRequestTokens;
using dropd::pipeline::RequestSize;
using nlohmann::json;

TEST_CASE("estimateRequestTokens adds overhead and the completion budget", "[pipeline]") {
  const json none = json::object();
  SECTION("empty everything is 0") { CHECK(estimateRequestTokens({}, none) == 0); }
  SECTION("content tokens plus the overhead bytes at 4 per token, rounded up") {
    CHECK(estimateRequestTokens({100, 400, 400}, none) == 100);
    CHECK(estimateRequestTokens({100, 400, 401}, none) == 101);
    CHECK(estimateRequestTokens({100, 400, 404}, none) == 101);
    CHECK(estimateRequestTokens({100, 400, 405}, none) == 102);
  }
  SECTION("a body smaller than the content adds nothing") {
    CHECK(estimateRequestTokens({100, 400, 10}, none) == 100);
  }
  SECTION("max_tokens or max_completion_tokens, whichever is larger") {
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_tokens", 50}}) == 60);
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_completion_tokens", 70}}) == 80);
    CHECK(estimateRequestTokens({10, 0, 0},
                                json{{"max_tokens", 50}, {"max_completion_tokens", 30}}) == 60);
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_tokens", std::int64_t{7}}}) == 17);
  }
  SECTION("unusable budgets are ignored") {
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_tokens", -5}}) == 10);
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_tokens", 2.5}}) == 10);
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_tokens", "100"}}) == 10);
    CHECK(estimateRequestTokens({10, 0, 0}, json{{"max_tokens", nullptr}}) == 10);
    CHECK(estimateRequestTokens({10, 0, 0}, json::array({1, 2})) == 10);
    CHECK(estimateRequestTokens({10, 0, 0}, json()) == 10);
  }
  SECTION("huge values saturate") {
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    CHECK(estimateRequestTokens({kMax, 0, kMax}, none) == kMax);
    CHECK(estimateRequestTokens({kMax - 1, 0, 0}, json{{"max_tokens", kMax}}) == kMax);
    CHECK(estimateRequestTokens({0, 0, kMax}, none) == kMax / 4 + 1);
  }
}

TEST_CASE("estimateUsage estimates a streamed answer's missing usage", "[pipeline]") {
  using dropd::pipeline::estimateUsage;
  SECTION("nothing sent, nothing answered") {
    const auto usage = estimateUsage({}, "");
    CHECK(usage.prompt_tokens == 0);
    CHECK(usage.completion_tokens == 0);
  }
  SECTION("the prompt as the send estimate, the answer by bytes and words") {
    const auto usage = estimateUsage({100, 400, 480}, "fake: one two (3 bytes)");
    CHECK(usage.prompt_tokens == 120);  // 100 + ceil(80 / 4)
    // round((320 * 23 - 87 * 5) / 1024) = round(6.76)
    CHECK(usage.completion_tokens == 7);
  }
  SECTION("white space only: bytes, no words") {
    // round(320 * 6 / 1024) = round(1.875)
    CHECK(estimateUsage({}, " \t\n\r\f\v").completion_tokens == 2);
  }
  SECTION("non-ASCII and invalid bytes count as word bytes, NUL too") {
    const std::string answer{"caf\xc3\xa9 \xff\x00x", 9};
    // two words in 9 bytes: round((2880 - 174) / 1024) = round(2.64)
    CHECK(estimateUsage({}, answer).completion_tokens == 3);
  }
  SECTION("a one-byte answer rounds to 0 tokens, a long one scales with its bytes") {
    CHECK(estimateUsage({}, "x").completion_tokens == 0);
    CHECK(estimateUsage({}, std::string(1 << 20, 'x')).completion_tokens == 327680);
  }
  SECTION("the prompt ignores any completion budget and saturates") {
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    CHECK(estimateUsage({kMax, 0, kMax}, "a b").prompt_tokens == kMax);
    CHECK(estimateUsage({5, 10, 2}, "a b").prompt_tokens == 5);  // body smaller than content
  }
}
