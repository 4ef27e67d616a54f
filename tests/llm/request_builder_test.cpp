#include "dropd/llm/request_builder.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dropd::config::parseTemplate;

namespace {

dropd::config::Prompt prompt(const char* system, const char* user) {
  return {*parseTemplate(system), *parseTemplate(user)};
}

nlohmann::json parsed(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

}  // namespace

TEST_CASE("RequestBuilder fills the prompt templates into a chat request", "[llm]") {
  dropd::config::Endpoint endpoint;
  endpoint.model = "llama3.1";
  endpoint.params = {{"temperature", 0.2}, {"max_tokens", 64}, {"model", "ignored"}};
  const dropd::llm::RequestBuilder builder(endpoint,
                                           prompt("You summarize.",
                                                  "Summarize {{filename}} ({{stats.words}} words, "
                                                  "{{path}}):\n\n{{content}}"));
  dropd::config::TemplateValues values;
  values.content = "line \"one\"\n\xFF end";
  values.filename = "a b.txt";
  values.path = "sub/a b.txt";
  values.words = 4;
  const auto doc = parsed(builder.build(values));

  CHECK(doc["model"] == "llama3.1");
  CHECK(doc["temperature"] == 0.2);
  CHECK(doc["max_tokens"] == 64);
  REQUIRE(doc["messages"].size() == 2);
  CHECK(doc["messages"][0]["role"] == "system");
  CHECK(doc["messages"][0]["content"] == "You summarize.");
  CHECK(doc["messages"][1]["role"] == "user");
  CHECK(doc["messages"][1]["content"] ==
        "Summarize a b.txt (4 words, sub/a b.txt):\n\nline \"one\"\n\xEF\xBF\xBD end");
}

TEST_CASE("RequestBuilder leaves out an empty system prompt and model", "[llm]") {
  const dropd::config::Endpoint endpoint;
  const dropd::llm::RequestBuilder builder(endpoint, prompt("", "{{content}}"));
  dropd::config::TemplateValues values;
  values.content = "";
  const auto doc = parsed(builder.build(values));
  CHECK_FALSE(doc.contains("model"));
  REQUIRE(doc["messages"].size() == 1);
  CHECK(doc["messages"][0]["content"] == "");
}

TEST_CASE("RequestBuilder asks for a stream with usage when stream: true", "[llm]") {
  dropd::config::Endpoint endpoint;
  endpoint.stream = true;
  endpoint.params = {{"stream", false}, {"temperature", 0}};
  const dropd::llm::RequestBuilder builder(endpoint, prompt("", "{{content}}"));
  const auto doc = parsed(builder.build({}));
  CHECK(doc["stream"] == true);
  CHECK(doc["stream_options"]["include_usage"] == true);
  CHECK(doc["temperature"] == 0);
  SECTION("without it, neither key is sent") {
    const dropd::llm::RequestBuilder plain(dropd::config::Endpoint{}, prompt("", "{{content}}"));
    const auto doc2 = parsed(plain.build({}));
    CHECK_FALSE(doc2.contains("stream"));
    CHECK_FALSE(doc2.contains("stream_options"));
  }
}
