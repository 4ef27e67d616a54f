#pragma once

// How many tokens one chat-completions request is charged against an
// endpoint's tokens-per-minute budget before it is sent. Pure; any thread.
//
//   estimate = content_tokens                      the file's stats.estimated_tokens
//            + ceil(overhead_bytes / 4)            the template, system prompt and
//                                                  JSON around the content, where
//                                                  overhead_bytes = body_bytes - content_bytes
//                                                  (0 if the body is smaller)
//            + max(params.max_tokens,              the completion the server reserves,
//                  params.max_completion_tokens)   when the endpoint sets either
//
// Providers charge prompt tokens plus the requested completion budget at
// admission, so the estimate does the same. Four bytes per token is the
// usual rule of thumb for the overhead (it is mostly ASCII); the content
// uses the finer per-file estimate. After the answer, its `usage` corrects
// the bucket (EndpointLimiter::onResponse), so the estimate only needs to
// be close. Saturates instead of overflowing; a non-integer or negative
// max_tokens is ignored.

#include <cstdint>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "dropd/llm/response.hpp"

namespace dropd::pipeline {

struct RequestSize {
  std::uint64_t content_tokens = 0;  // file::Stats::estimated_tokens
  std::uint64_t content_bytes = 0;   // file::Stats::bytes
  std::uint64_t body_bytes = 0;      // the request body as sent
};

[[nodiscard]] std::uint64_t estimateRequestTokens(const RequestSize& size,
                                                  const nlohmann::json& params) noexcept;

// The usage of an answer whose server sent none (a stream without a usage
// chunk): prompt_tokens is the request's estimate without the completion
// budget, completion_tokens file::estimateTokens() of the answer's bytes
// and words (runs of non-whitespace).
[[nodiscard]] llm::Usage estimateUsage(const RequestSize& size, std::string_view answer) noexcept;

}  // namespace dropd::pipeline
