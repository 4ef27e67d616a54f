#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/fake_llm/completion.hpp"

namespace dropd::fake_llm {
namespace {

std::string contentOf(const std::string& body) {
  return nlohmann::json::parse(body)["choices"][0]["message"]["content"].get<std::string>();
}

TEST_CASE("The fake's answer is the user message itself with echo", "[fake_llm]") {
  ChatRequest request;
  request.model = "m";
  request.user_content = "one two three four five six seven eight nine ten";
  CHECK(contentOf(completionBody(request, 1, 0)) == fakeContent(request.user_content));
  request.echo = true;
  CHECK(contentOf(completionBody(request, 1, 0)) == request.user_content);
  std::string streamed;
  for (const std::string& event : streamEvents(request, 1, 0)) {
    const auto json = nlohmann::json::parse(event.substr(6), nullptr, false);  // "data: "
    if (!json.is_discarded() && !json["choices"].empty() &&
        json["choices"][0]["delta"].contains("content")) {
      streamed += json["choices"][0]["delta"]["content"].get<std::string>();
    }
  }
  CHECK(streamed == request.user_content);
}

}  // namespace
}  // namespace dropd::fake_llm
