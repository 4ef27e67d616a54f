#pragma once

// Reading an OpenAI-compatible chat-completions answer into a Completion,
// or into a Failure sorted by the status table (status_class.hpp). Pure;
// any thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>
#include <tl/expected.hpp>

#include "dropd/base/error.hpp"
#include "dropd/llm/status_class.hpp"
#include "dropd/throttle/outcome.hpp"

namespace dropd::llm {

struct Usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
};

struct Completion {
  std::string content;
  std::string finish_reason;
  Usage usage;
  // A streamed answer that sent no usage chunk: `usage` is zero here and
  // the pipeline fills in its own estimate (records say usage_estimated).
  bool usage_estimated = false;
  // Streamed answers only: from handing the request over to the first
  // content delta (time to first token).
  std::optional<std::chrono::milliseconds> ttft{};
};

// What a message (choices[i].message) or a streamed delta
// (choices[i].delta) says: its text, content as a string or its text parts
// ({"type":"text"}) joined in order, other parts skipped; and its refusal,
// from `refusal` or a {"type":"refusal"} part.
struct MessageText {
  std::string text;
  std::string refusal;
  bool well_formed = true;  // false: content is neither a string, a list, nor null
};
[[nodiscard]] MessageText readMessageText(const nlohmann::json& message);

// The OpenAI error object's code or type when it is one the status table
// knows ("insufficient_quota", "context_length_exceeded"); empty otherwise,
// and when `doc` is not {"error": {...}}.
[[nodiscard]] std::string errorCodeOf(const nlohmann::json& doc);

// A `usage` object's prompt_tokens and completion_tokens (0 when absent).
[[nodiscard]] Usage readUsage(const nlohmann::json& usage);

struct Failure {
  FailureClass cls = FailureClass::kRetry;
  FailureKind kind = FailureKind::kHttp;  // its record kind: toString(kind)
  int http_status = 0;                    // 0 when no HTTP status applies
  std::string message;  // one line, with a body excerpt for HTTP errors (never a secret)
};

// What one exchange came to: a completion or a failure (sorted by the status
// table, status_class.hpp), and how the endpoint's limiter counts it.
struct Answer {
  tl::expected<Completion, Failure> result;
  throttle::Outcome outcome = throttle::Outcome::kSuccess;
};

// Parses a 2xx body, or classifies a non-2xx answer. Headers (Retry-After,
// rate limits) are not read here.
[[nodiscard]] Answer readAnswer(int status, std::string_view body);

// An exchange that ended without a usable HTTP answer (net::HttpClient's
// error). Timeouts and network errors are the endpoint's trouble:
// kRetry, kind "timeout" or "network". An answer over max_response_bytes
// (kTooLarge) is the file's: the same request would get the same answer,
// so kFailFile, kind "response_too_large", and the endpoint did answer.
[[nodiscard]] Answer readTransportError(const Error& error);

// readAnswer(status, body).result.
[[nodiscard]] tl::expected<Completion, Failure> parseResponse(int status, std::string_view body);

// readTransportError(error)'s failure.
[[nodiscard]] Failure transportFailure(const Error& error);

// At most `max_bytes` of `body` on one line, with control bytes shown as spaces,
// for error messages and logs.
[[nodiscard]] std::string bodyExcerpt(std::string_view body, std::size_t max_bytes = 200);

}  // namespace dropd::llm
