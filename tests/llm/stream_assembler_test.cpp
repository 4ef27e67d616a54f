#include "dropd/llm/stream_assembler.hpp"

#include <string>

#include <catch2/catch.hpp>

using dropd::llm::Answer;
using dropd::llm::FailureClass;
using dropd::llm::StreamAssembler;

namespace {

// Recorded from the shape of api.openai.com's answers (ids shortened):
// role first, content in pieces, finish_reason, the usage chunk, [DONE].
const std::string kOpenAi =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1733330000,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\", w\\u00f6rld\\n\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":4,\"total_tokens\":23}}\n\n"
    "data: [DONE]\n\n";

// vLLM / llama.cpp style: CRLF, no space after "data:", parts lists, no
// usage chunk, and the body ends after finish_reason without [DONE].
const std::string kNoDone =
    "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
    "{\"type\":\"image_url\"},{\"type\":\"text\",\"text\":\"b\"}]},\"finish_reason\":null}]}"
    "\r\n\r\n"
    "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"c\"},"
    "\"finish_reason\":\"length\"}]}\r\n\r\n";

// A server that fails after the answer started: an `event: error`.
const std::string kErrorEvent =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"},"
    "\"finish_reason\":null}]}\n\n"
    "event: error\ndata: {\"error\":{\"message\":\"The server had an error\","
    "\"type\":\"server_error\"}}\n\n";

Answer feedSplit(const std::string& stream, std::size_t split) {
  StreamAssembler assembler;
  assembler.feed(std::string_view(stream).substr(0, split));
  assembler.feed(std::string_view(stream).substr(split));
  return assembler.finish(200);
}

Answer feedBytes(const std::string& stream) {
  StreamAssembler assembler;
  for (const char c : stream) {
    assembler.feed(std::string_view(&c, 1));
  }
  return assembler.finish(200);
}

// The same stream split at every byte boundary and fed a byte at a time
// gives the same answer as fed whole.
void checkEverySplit(const std::string& stream) {
  const Answer whole = feedSplit(stream, stream.size());
  std::vector<Answer> others{feedBytes(stream)};
  for (std::size_t split = 0; split < stream.size(); ++split) {
    others.push_back(feedSplit(stream, split));
  }
  for (const Answer& other : others) {
    REQUIRE(other.result.has_value() == whole.result.has_value());
    CHECK(other.outcome == whole.outcome);
    if (whole.result) {
      CHECK(other.result->content == whole.result->content);
      CHECK(other.result->finish_reason == whole.result->finish_reason);
      CHECK(other.result->usage.prompt_tokens == whole.result->usage.prompt_tokens);
      CHECK(other.result->usage.completion_tokens == whole.result->usage.completion_tokens);
      CHECK(other.result->usage_estimated == whole.result->usage_estimated);
    } else {
      CHECK(other.result.error().kind == whole.result.error().kind);
      CHECK(other.result.error().message == whole.result.error().message);
    }
  }
}

}  // namespace

TEST_CASE("StreamAssembler assembles OpenAI's stream with its usage chunk", "[llm]") {
  const Answer answer = feedSplit(kOpenAi, kOpenAi.size());
  REQUIRE(answer.result);
  CHECK(answer.result->content == "Hello, w\xc3\xb6rld\n");
  CHECK(answer.result->finish_reason == "stop");
  CHECK(answer.result->usage.prompt_tokens == 19);
  CHECK(answer.result->usage.completion_tokens == 4);
  CHECK_FALSE(answer.result->usage_estimated);
  checkEverySplit(kOpenAi);
}

TEST_CASE("StreamAssembler accepts a stream without [DONE] once a finish_reason came", "[llm]") {
  const Answer answer = feedSplit(kNoDone, kNoDone.size());
  REQUIRE(answer.result);
  CHECK(answer.result->content == "abc");
  CHECK(answer.result->finish_reason == "length");
  CHECK(answer.result->usage_estimated);
  CHECK(answer.result->usage.completion_tokens == 0);
  checkEverySplit(kNoDone);
}

TEST_CASE("StreamAssembler fails a stream with an error event, retryably", "[llm]") {
  const Answer answer = feedSplit(kErrorEvent, kErrorEvent.size());
  REQUIRE_FALSE(answer.result);
  CHECK(answer.result.error().cls == FailureClass::kRetry);
  CHECK(toString(answer.result.error().kind) == "stream_error");
  CHECK(answer.result.error().message.find("The server had an error") != std::string::npos);
  CHECK(answer.outcome == dropd::throttle::Outcome::kServerError);
  checkEverySplit(kErrorEvent);
  SECTION("an error object in a data chunk fails the same way") {
    const Answer chunk = feedSplit(
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n"
        "data: [DONE]\n\n",
        0);
    REQUIRE_FALSE(chunk.result);
    CHECK(toString(chunk.result.error().kind) == "stream_error");
  }
  SECTION("an error whose code is insufficient_quota pauses the endpoint") {
    const Answer quota =
        feedSplit("event: error\ndata: {\"error\":{\"code\":\"insufficient_quota\"}}\n\n", 3);
    REQUIRE_FALSE(quota.result);
    CHECK(quota.result.error().cls == FailureClass::kPauseEndpoint);
  }
}

TEST_CASE("StreamAssembler fails a stream that ends early, retryably", "[llm]") {
  const std::string cut =
      "data: {\"choices\":[{\"delta\":{\"content\":\"half an ans\"},\"finish_reason\":null}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"wer\"},\"finish_reason\":\"stop\"}]}";
  const Answer answer = feedSplit(cut, cut.size());
  REQUIRE_FALSE(answer.result);
  CHECK(answer.result.error().cls == FailureClass::kRetry);
  CHECK(toString(answer.result.error().kind) == "bad_response");
  CHECK(answer.result.error().message.starts_with("stream ended early"));
  checkEverySplit(cut);
}

TEST_CASE("StreamAssembler reads refusals and empty streams as plain answers do", "[llm]") {
  SECTION("a refusal delta fails the file") {
    const Answer answer = feedSplit(
        "data: {\"choices\":[{\"delta\":{\"content\":null,\"refusal\":\"I can't\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"refusal\":\" help.\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n",
        10);
    REQUIRE_FALSE(answer.result);
    CHECK(answer.result.error().cls == FailureClass::kFailFile);
    CHECK(answer.result.error().message == "the model refused: I can't help.");
  }
  SECTION("no content at all is an empty answer") {
    const Answer answer = feedSplit(
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n",
        0);
    REQUIRE_FALSE(answer.result);
    CHECK(toString(answer.result.error().kind) == "empty_answer");
  }
  SECTION("a chunk that is not JSON is a bad response") {
    const Answer answer = feedSplit("data: {\"choices\":[\n\ndata: [DONE]\n\n", 0);
    REQUIRE_FALSE(answer.result);
    CHECK(toString(answer.result.error().kind) == "bad_response");
  }
  SECTION("an empty body is an early end") {
    StreamAssembler assembler;
    const Answer answer = assembler.finish(200);
    REQUIRE_FALSE(answer.result);
    CHECK(answer.result.error().message.starts_with("stream ended early"));
  }
}

TEST_CASE("StreamAssembler reports the first content for time to first token", "[llm]") {
  StreamAssembler assembler;
  assembler.feed("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n");
  CHECK_FALSE(assembler.hasContent());
  assembler.feed("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n");
  CHECK_FALSE(assembler.hasContent());
  assembler.feed("\n");
  CHECK(assembler.hasContent());
}

TEST_CASE("StreamAssembler reads a plain JSON answer to a stream request", "[llm]") {
  const std::string body =
      "\n{\"choices\":[{\"message\":{\"content\":\"plain\"},\"finish_reason\":\"stop\"}],"
      "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}";
  const Answer answer = feedSplit(body, 0);
  REQUIRE(answer.result);
  CHECK(answer.result->content == "plain");
  CHECK_FALSE(answer.result->usage_estimated);
  checkEverySplit(body);
}
