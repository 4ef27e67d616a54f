// parseResponse(), readAnswer() and bodyExcerpt() on any status and body: a
// success only ever comes from a 2xx and is the only kSuccess outcome, a
// failure that pauses the endpoint is kRejected, every failure carries its
// status and a one-line message of bounded size, and a well-formed
// completion built from the input reads back with the same content, finish
// reason and usage, or with no content is an empty_answer, never a success.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/llm/response.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::llm::FailureClass;
using dropd::throttle::Outcome;
using nlohmann::json;

constexpr std::size_t kExcerptBytes = 200;  // bodyExcerpt's default

void checkOneLine(std::string_view text) {
  for (const char c : text) {
    DROPD_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
}

void checkAnyAnswer(int status, std::string_view body) {
  const auto result = dropd::llm::parseResponse(status, body);
  const bool is_2xx = status >= 200 && status <= 299;
  const dropd::llm::Answer answer = dropd::llm::readAnswer(status, body);
  DROPD_FUZZ_CHECK(answer.result.has_value() == result.has_value());
  DROPD_FUZZ_CHECK(answer.result.has_value() == (answer.outcome == Outcome::kSuccess));
  if (!answer.result && answer.result.error().cls == FailureClass::kPauseEndpoint) {
    DROPD_FUZZ_CHECK(answer.outcome == Outcome::kRejected);
  }
  if (result) {
    DROPD_FUZZ_CHECK(is_2xx);
    return;
  }
  const dropd::llm::Failure& failure = result.error();
  DROPD_FUZZ_CHECK(failure.http_status == status);
  DROPD_FUZZ_CHECK(!toString(failure.kind).empty());
  checkOneLine(failure.message);
  DROPD_FUZZ_CHECK(failure.message.size() <= kExcerptBytes + 100);
  if (is_2xx) {
    const std::string_view kind = toString(failure.kind);
    DROPD_FUZZ_CHECK(kind == "bad_response" || kind == "empty_answer" || kind == "refusal");
    DROPD_FUZZ_CHECK(failure.cls ==
                     (kind == "refusal" ? FailureClass::kFailFile : FailureClass::kRetry));
  }
  if (status == 401 || status == 403) {
    DROPD_FUZZ_CHECK(failure.cls == FailureClass::kPauseEndpoint);
  }
}

void checkExcerpt(std::string_view body, std::size_t max_bytes) {
  const std::string excerpt = dropd::llm::bodyExcerpt(body, max_bytes);
  checkOneLine(excerpt);
  DROPD_FUZZ_CHECK(excerpt.size() == (body.size() > max_bytes ? max_bytes + 3 : body.size()));
}

void checkCompletionRoundTrip(std::string_view content, std::string_view finish,
                              std::uint64_t prompt_tokens) {
  // Invalid UTF-8 is replaced on the way out, as a server would have to.
  const json content_json = json(std::string(content));
  const std::string content_text =
      content_json.dump(-1, ' ', false, json::error_handler_t::replace);
  const json doc = {
      {"choices",
       json::array({{{"message", {{"role", "assistant"}, {"content", json::parse(content_text)}}},
                     {"finish_reason", std::string(finish.size() % 2 ? "stop" : "length")}}})},
      {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", content.size()}}}};
  const auto result = dropd::llm::parseResponse(200, doc.dump(-1, ' ', false));
  if (content.empty()) {
    // No text is never a silent empty success.
    DROPD_FUZZ_CHECK(!result && toString(result.error().kind) == "empty_answer");
    return;
  }
  DROPD_FUZZ_CHECK(result.has_value());
  DROPD_FUZZ_CHECK(result->content == json::parse(content_text).get<std::string>());
  DROPD_FUZZ_CHECK(result->finish_reason == (finish.size() % 2 ? "stop" : "length"));
  DROPD_FUZZ_CHECK(result->usage.prompt_tokens == prompt_tokens);
  DROPD_FUZZ_CHECK(result->usage.completion_tokens == content.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const int status = input.takeInt<std::int16_t>() % 1000;
  const std::size_t max_bytes = input.takeByte();
  const auto prompt_tokens = input.takeInt<std::uint64_t>();
  const std::string_view finish = input.takeShortString();
  const std::string_view body = input.takeRest();
  checkAnyAnswer(status, body);
  checkAnyAnswer(200, body);
  checkExcerpt(body, max_bytes);
  checkCompletionRoundTrip(body, finish, prompt_tokens);
  return 0;
}
