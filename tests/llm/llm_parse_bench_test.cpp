// Hidden benchmarks of the llm module's pure functions: escaping a file into
// the request body and reading the answer. Run with `test_llm "[bench]"`.

#include <string>

#include <catch2/catch.hpp>

#include "dropd/llm/json_escape.hpp"
#include "dropd/llm/response.hpp"

TEST_CASE("JSON escaping and response parsing", "[.][bench]") {
  std::string content;
  while (content.size() < (1 << 20)) {
    content += "A line with \"quotes\", a tab\t, déjà vu and a newline\n";
  }
  const std::string answer =
      R"({"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":"A summary of the file in a few sentences."},)"
      R"("finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":64}})";

  BENCHMARK("appendJsonEscaped, 1 MiB") {
    std::string out;
    out.reserve(content.size() + content.size() / 8);
    dropd::llm::appendJsonEscaped(out, content);
    return out;
  };
  BENCHMARK("parseResponse, a typical 2xx") { return dropd::llm::parseResponse(200, answer); };
  BENCHMARK("parseResponse, a 429") {
    return dropd::llm::parseResponse(429, R"({"error":{"code":"rate_limit_exceeded"}})");
  };
}
