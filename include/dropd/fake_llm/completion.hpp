#pragma once

// The fake's answers as pure functions of the request: no I/O, no clock
// (time and ids come in as parameters). Any thread.
//
// The content is `fake: <first 8 words of the last user message> (<N> bytes)`
// with N the byte length of that message's content: other modules' tests
// check exactly this form to prove which text was sent.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dropd::fake_llm {

struct ChatRequest {
  std::string model;
  std::string user_content;        // the last "user" message's text, "" if none
  std::string first_user_content;  // the first one's: the document, in a repair too
  bool has_assistant = false;      // an "assistant" message: a corrective follow-up
  // "response_format"'s "type" ("json_schema", "json_object", "text"), "" if absent.
  std::string response_format;
  std::size_t prompt_bytes = 0;  // all messages' text, for usage
  std::size_t prompt_words = 0;  // and its words (runs of non-ASCII-whitespace)
  std::size_t messages = 0;
  std::uint64_t max_tokens = 0;  // "max_tokens" or "max_completion_tokens"; 0 if absent
  bool stream = false;           // "stream": true
  bool include_usage = false;    // "stream_options": {"include_usage": true}
  bool echo = false;             // answer with user_content itself (Config::echo_content)
};

// Reads the parts of a chat-completions body the fake uses. Content given as
// an array of parts ({"type":"text","text":...}) is joined. False if `body`
// is not a JSON object with a "messages" array.
[[nodiscard]] bool readChatRequest(const nlohmann::json& body, ChatRequest& out);

// The first `count` words (runs of non-ASCII-whitespace), joined by one space.
[[nodiscard]] std::string firstWords(std::string_view text, std::size_t count);

[[nodiscard]] std::string fakeContent(std::string_view user_content);

// JSON answers, for dropd's output.format json. The fake answers JSON when
// the request asks for it (response_format json_schema or json_object) or
// when its first user message holds a marker; the marker also says how:
//   json:valid        {"summary": "<fakeContent of the document>", "bytes": N}
//   json:invalid-once {"summary": 42, "bytes": "many"} unless the request
//                     is a follow-up (has an assistant message): then valid
//   json:invalid      that invalid object, always
//   json:fenced       the valid object in a ```json code fence
//   json:think        a <think>...</think> block (holding braces), then it
//   json:prose        a sentence before and after it
// N is the document's size in bytes. No marker, but asked: json:valid.
enum class JsonAnswerKind { kNone, kValid, kInvalidOnce, kInvalid, kFenced, kThink, kProse };
[[nodiscard]] JsonAnswerKind jsonAnswerKind(const ChatRequest& request);
// "", "json", "json-invalid-once", ... for the request log.
[[nodiscard]] std::string_view toString(JsonAnswerKind kind);
// The answer's content: fakeContent(user_content) for kNone, else as above.
[[nodiscard]] std::string answerContent(const ChatRequest& request);

// Tokens as the fake counts them: ceil(bytes / 4), at least 1 for non-empty text.
[[nodiscard]] std::uint64_t estimateTokens(std::size_t bytes) noexcept;

// The request's size in tokens as dropd estimates text
// (file::estimateTokens() of all messages' bytes and words) plus 3 per
// message and 3 for the answer's start (OpenAI's counting rule): what
// --context-tokens compares with the model's context.
[[nodiscard]] std::uint64_t contextTokens(const ChatRequest& request) noexcept;
// OpenAI's 400 for a request over the context (code context_length_exceeded).
[[nodiscard]] std::string contextLengthBody(std::uint64_t context, std::uint64_t tokens);

// The whole chat.completion JSON body.
[[nodiscard]] std::string completionBody(const ChatRequest& request, std::uint64_t id,
                                         std::int64_t created_unix);

// The same answer as completionBody(), streamed as OpenAI streams it: one
// server-sent event per element ("data: {...}\n\n"): a chunk with the
// role, one chat.completion.chunk per word of the content (each delta the
// word and the space after it, so the deltas joined are the content), one
// with finish_reason "stop", a usage chunk (empty choices) when
// include_usage, then "data: [DONE]\n\n".
[[nodiscard]] std::vector<std::string> streamEvents(const ChatRequest& request, std::uint64_t id,
                                                    std::int64_t created_unix);

// An `event: error` as a server sends one mid-stream: a server_error.
[[nodiscard]] std::string streamErrorEvent(std::string_view message);

// An OpenAI-style error body: {"error": {"message", "type", "code"}}.
[[nodiscard]] std::string errorBody(int status, std::string_view message);
// The same with a string code, as OpenAI sends: "insufficient_quota" (whose
// type is also "insufficient_quota"), "invalid_api_key", ...
[[nodiscard]] std::string errorBody(int status, std::string_view message, std::string_view code);
// A 429 for a rate limit: type "requests" or "tokens", code "rate_limit_exceeded".
[[nodiscard]] std::string rateLimitBody(std::string_view type, std::string_view message);

// What a request costs against --tpm: its prompt tokens as the fake counts
// them plus max_tokens (providers reserve the whole completion budget).
[[nodiscard]] std::uint64_t requestTokenCost(const ChatRequest& request) noexcept;

}  // namespace dropd::fake_llm
