#pragma once

// Reads a streamed chat-completions answer (OpenAI's format, "stream":
// true) as its body arrives, into the same Answer a plain JSON answer
// gives (response.hpp). Pure: no I/O, no clock; any thread, one owner.
//
// The body is server-sent events (net::SseParser), each `data:` a
// chat.completion.chunk: choices[0].delta.content (a string, or a list of
// parts read as readMessageText() reads a message), choices[0].finish_reason
// (null until the last content chunk), and, when the request asked for
// stream_options.include_usage, a last chunk with empty choices and
// `usage`; then `data: [DONE]`. Memory: the answer's text and the SSE
// parser's current line and event; events are not kept.
//
// finish() decides, once the body is complete (see status_class.hpp for
// each row):
//   - an `event: error`, or a chunk with an "error" object, at any point:
//     a failure sorted by classifyStreamError() (retried like a 5xx unless
//     its code pauses the endpoint or fails the file); what came before
//     it is dropped;
//   - a chunk that is not JSON, or whose delta content is not text:
//     bad_response (retried);
//   - no [DONE]: accepted when a finish_reason came (some servers, older
//     vLLM and llama.cpp among them, end the body without it), else
//     bad_response "stream ended early" (retried); a connection cut before
//     the end of the body never gets here (net reports a network error);
//   - text: a Completion; no text but a refusal: refusal (the file fails);
//     neither: empty_answer (retried), as for plain answers.
// A server that ignored "stream": true and answered one JSON object (the
// body's first byte other than whitespace is '{') is read as readAnswer()
// reads it; that body is kept whole, bounded by max_response_bytes.
// Without a usage chunk the Completion's usage is zero and
// usage_estimated is set, for the caller to estimate.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "dropd/llm/response.hpp"
#include "dropd/net/sse_parser.hpp"

namespace dropd::llm {

class StreamAssembler {
 public:
  // Decoded body bytes (after any chunked framing), in order, in pieces of
  // any size. Bytes after a failure or after [DONE] are ignored.
  void feed(std::string_view bytes);
  // True once a delta with text arrived (time to first token).
  [[nodiscard]] bool hasContent() const noexcept { return !content_.empty(); }
  // The answer, once the body ended. `status` is the response's (a 2xx).
  [[nodiscard]] Answer finish(int status);

 private:
  void onEvent(const net::SseEvent& event);
  void onChunk(const nlohmann::json& chunk);
  void fail(StatusClass sorted, std::string message);
  [[nodiscard]] Answer completion(int status);

  net::SseParser sse_;
  std::string content_;
  std::string refusal_;
  std::string finish_reason_;
  std::optional<Usage> usage_;
  std::optional<Failure> failure_;
  throttle::Outcome failure_outcome_ = throttle::Outcome::kServerError;
  bool done_ = false;  // [DONE] arrived
  enum class Shape { kUnknown, kEvents, kJson } shape_ = Shape::kUnknown;
  std::string json_;  // the whole body for Shape::kJson; leading whitespace before a shape
};

}  // namespace dropd::llm
