#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/fake_llm/completion.hpp"

namespace {

using dropd::fake_llm::answerContent;
using dropd::fake_llm::ChatRequest;
using dropd::fake_llm::JsonAnswerKind;
using dropd::fake_llm::jsonAnswerKind;
using nlohmann::json;

ChatRequest requestOf(const json& body) {
  ChatRequest out;
  REQUIRE(dropd::fake_llm::readChatRequest(body, out));
  return out;
}

json body(const std::string& document, const char* format, bool follow_up) {
  json messages = json::array(
      {{{"role", "system"}, {"content", "s"}}, {{"role", "user"}, {"content", document}}});
  if (follow_up) {
    messages.push_back({{"role", "assistant"}, {"content", "{}"}});
    messages.push_back({{"role", "user"}, {"content", "fix it"}});
  }
  json out = {{"model", "m"}, {"messages", messages}};
  if (format != nullptr) {
    out["response_format"] = {{"type", format}};
  }
  return out;
}

}  // namespace

TEST_CASE("The fake answers JSON when asked, and as its marker says", "[fake_llm]") {
  const json valid = {{"summary", "fake: a b (3 bytes)"}, {"bytes", 3}};
  CHECK(answerContent(requestOf(body("a b", nullptr, false))) == "fake: a b (3 bytes)");
  CHECK(json::parse(answerContent(requestOf(body("a b", "json_schema", false)))) == valid);
  CHECK(json::parse(answerContent(requestOf(body("a b", "json_object", false)))) == valid);
  CHECK(jsonAnswerKind(requestOf(body("a b", "text", false))) == JsonAnswerKind::kNone);

  SECTION("invalid once: valid in a follow-up, whose first user message is the document") {
    const std::string doc = "x json:invalid-once";
    CHECK(json::parse(answerContent(requestOf(body(doc, nullptr, false))))["summary"] == 42);
    const ChatRequest repair = requestOf(body(doc, nullptr, true));
    CHECK(repair.has_assistant);
    CHECK(repair.user_content == "fix it");
    CHECK(json::parse(answerContent(repair))["bytes"] == doc.size());
  }
  SECTION("always invalid") {
    CHECK(json::parse(answerContent(requestOf(body("json:invalid", nullptr, true))))["bytes"] ==
          "many");
  }
  SECTION("fenced, think and prose wrap the valid object") {
    CHECK(answerContent(requestOf(body("json:fenced", nullptr, false))).rfind("```json\n", 0) == 0);
    CHECK(answerContent(requestOf(body("json:think", nullptr, false))).rfind("<think>", 0) == 0);
    CHECK(answerContent(requestOf(body("json:prose", nullptr, false))).rfind("Here", 0) == 0);
  }
}
