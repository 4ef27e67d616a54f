#include "dropd/llm/json_answer.hpp"

#include <catch2/catch.hpp>

namespace {

using dropd::llm::extractJsonAnswer;
using dropd::llm::fencedBlocks;
using dropd::llm::stripThinkBlocks;
using nlohmann::json;

const json kValue = {{"summary", "s"}, {"bytes", 3}};

}  // namespace

TEST_CASE("extractJsonAnswer finds the one JSON value of an answer", "[llm]") {
  const std::string value = kValue.dump();
  SECTION("bare, with whitespace around") {
    CHECK(extractJsonAnswer(" \n" + value + "\n").value == kValue);
  }
  SECTION("in a ```json fence") {
    CHECK(extractJsonAnswer("```json\n" + value + "\n```").value == kValue);
  }
  SECTION("in a bare ``` fence, with prose around it") {
    CHECK(extractJsonAnswer("Sure:\n```\n" + value + "\n```\nDone.").value == kValue);
  }
  SECTION("after a think block that holds braces") {
    const auto answer = extractJsonAnswer("<think>maybe {\"a\": 1}?</think>\n" + value);
    REQUIRE(answer.ok);
    CHECK(answer.value == kValue);
  }
  SECTION("after a think block opened in the prompt") {
    CHECK(extractJsonAnswer("reasoning {x}</think>" + value).value == kValue);
  }
  SECTION("with a sentence before and after") {
    CHECK(extractJsonAnswer("Here it is: " + value + " Hope it helps.").value == kValue);
  }
  SECTION("a scalar answer") { CHECK(extractJsonAnswer("42").value == json(42)); }
}

TEST_CASE("extractJsonAnswer refuses what is not one JSON value", "[llm]") {
  const std::string value = kValue.dump();
  for (const std::string& content :
       {std::string(), std::string("  \n"), std::string("<think>only thought</think>"),
        std::string("no json here"), std::string("two: {\"a\":1} and {\"b\":2}"),
        "```json\n" + value + "\n```\n```json\n" + value + "\n```",
        std::string("```json\n{nope\n```"), std::string("<think>unclosed ") + value}) {
    INFO(content);
    const auto answer = extractJsonAnswer(content);
    CHECK_FALSE(answer.ok);
    CHECK_FALSE(answer.error.empty());
  }
}

TEST_CASE("stripThinkBlocks and fencedBlocks edge cases", "[llm]") {
  CHECK(stripThinkBlocks("a<think>b</think>c<think>d</think>e") == "ace");
  CHECK(stripThinkBlocks("a<think>b") == "a");
  CHECK(stripThinkBlocks("x</think>y<think>z</think>") == "y");
  CHECK(stripThinkBlocks("").empty());
  CHECK(fencedBlocks("no fence").empty());
  CHECK(fencedBlocks("```").empty());
  REQUIRE(fencedBlocks("```json\n1\n```\n```\n2").size() == 2);
  CHECK(fencedBlocks("```json\n1\n```\n```\n2")[1] == "2");
}

TEST_CASE("extractJsonAnswer benchmarks", "[.][bench]") {
  const std::string value = json{{"summary", std::string(2000, 'x')}, {"bytes", 3}}.dump();
  const std::string fenced =
      "<think>" + std::string(4000, 't') + "</think>```json\n" + value + "\n```";
  BENCHMARK("bare") { return extractJsonAnswer(value).ok; };
  BENCHMARK("think block and fence") { return extractJsonAnswer(fenced).ok; };
}
