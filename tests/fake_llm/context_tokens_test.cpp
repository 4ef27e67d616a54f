#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/fake_llm/completion.hpp"
#include "dropd/file/token_estimate.hpp"

namespace dropd::fake_llm {
namespace {

TEST_CASE("The fake counts a request's tokens as dropd estimates text", "[fake_llm]") {
  const nlohmann::json body = {{"model", "m"},
                               {"messages",
                                {{{"role", "system"}, {"content", "be brief"}},
                                 {{"role", "user"}, {"content", "one two  three\nfour"}}}}};
  ChatRequest request;
  REQUIRE(readChatRequest(body, request));
  CHECK(request.prompt_bytes == 8 + 19);
  CHECK(request.prompt_words == 2 + 4);
  CHECK(request.messages == 2);
  CHECK(contextTokens(request) == file::estimateTokens({27, 6}) + 3 * 2 + 3);
}

TEST_CASE("The fake's context-length answer is OpenAI's", "[fake_llm]") {
  const auto body = nlohmann::json::parse(contextLengthBody(4096, 5000));
  const auto& error = body["error"];
  CHECK(error["code"] == "context_length_exceeded");
  CHECK(error["type"] == "invalid_request_error");
  CHECK(error["param"] == "messages");
  CHECK(error["message"].get<std::string>().find("maximum context length is 4096 tokens. "
                                                 "However, your messages resulted in 5000") !=
        std::string::npos);
}

}  // namespace
}  // namespace dropd::fake_llm
