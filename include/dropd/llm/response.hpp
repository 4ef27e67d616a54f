#pragma once

// Reading an OpenAI-compatible chat-completions answer, and sorting what went
// wrong into the classes the Dispatcher acts on. Pure; any thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "dropd/uv/error.hpp"

namespace dropd::llm {

struct Usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
};

struct Completion {
  std::string content;
  std::string finish_reason;
  Usage usage;
};

// What the Dispatcher does about a failed attempt.
enum class FailureClass {
  kRetry,          // 408, 409, 429 (rate limit), 5xx, bad response body: back off, try again
  kPauseEndpoint,  // 401, 403, 429 insufficient_quota: the endpoint is unusable, files wait
  kFailFile,       // 400, 404, 413, 422 and other 4xx: this file's request is wrong, fail it
};

struct Failure {
  FailureClass cls = FailureClass::kRetry;
  // Error record kind: "http", "bad_response", "context_length" (parseResponse),
  // "timeout", "network", "response_too_large" (transportFailure), ...
  std::string kind;
  int http_status = 0;  // 0 when no HTTP status applies
  std::string message;  // one line, with a body excerpt for HTTP errors (never a secret)
};

// Parses a 2xx body, or classifies a non-2xx answer. `retry_after` is
// not read here (the throttle module owns it).
[[nodiscard]] tl::expected<Completion, Failure> parseResponse(int status, std::string_view body);

// An exchange that ended without a usable HTTP answer (net::HttpClient's
// error). Timeouts and network errors are the endpoint's trouble:
// kRetry, kind "timeout" or "network". An answer over max_response_bytes
// (kTooLarge) is the file's: the same request would get the same answer,
// so kFailFile, kind "response_too_large", and the endpoint did answer.
[[nodiscard]] Failure transportFailure(const Error& error);

// At most `max_bytes` of `body` on one line, with control bytes shown as spaces,
// for error messages and logs.
[[nodiscard]] std::string bodyExcerpt(std::string_view body, std::size_t max_bytes = 200);

}  // namespace dropd::llm
