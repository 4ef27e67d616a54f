#pragma once

// The llm::Client for one OpenAI-compatible endpoint, over a keep-alive
// net::HttpClient pool. It owns everything HTTP about a chat-completions
// request: the POST to the endpoint's target, its headers (Content-Type,
// Accept, Accept-Encoding: gzip, User-Agent, then api_key as `auth` says: "Authorization: Bearer
// KEY", "api-key: KEY" or nothing; then the endpoint's own `headers` in file
// order, each replacing a default of the same name, compared without case,
// as RFC 9110 §5.3 has a repeated field mean a list), reading the answer or the
// transport error into an Attempt (response.hpp, status_class.hpp), and the
// hints the server sends (retry-after-ms / Retry-After, x-ratelimit-*).
// With `stream: true` the request asks for a streamed answer and a 2xx
// body is fed to a StreamAssembler (stream_assembler.hpp) as it arrives,
// never kept whole; the first content delta sets Completion::ttft, and a
// gap of timeouts.idle between reads fails the attempt (kind timeout,
// retried). A failed or cut stream gives a failure, never part of an
// answer. Non-2xx answers to a stream request are read as plain JSON
// errors. Loop thread only; `clock` must
// outlive it (it times each attempt and dates Retry-After).
//
// create() fails when the URL does not parse or the TLS CA file cannot be
// loaded (net::HttpClient::create).

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/config/config.hpp"
#include "dropd/llm/client.hpp"
#include "dropd/net/http_client.hpp"
#include "dropd/throttle/rate_limit_headers.hpp"

namespace dropd::llm {

class HttpLlmClient final : public Client {
 public:
  [[nodiscard]] static Result<std::unique_ptr<HttpLlmClient>> create(
      uv_loop_t& loop, const config::Endpoint& endpoint, const Clock& clock);
  HttpLlmClient(std::unique_ptr<net::HttpClient> http, const config::Endpoint& endpoint,
                const Clock& clock);
  HttpLlmClient(const HttpLlmClient&) = delete;
  HttpLlmClient& operator=(const HttpLlmClient&) = delete;

  void send(std::shared_ptr<const std::string> body, AttemptFn done) override;
  void close() override;

  // The request send() would make for `body` (headers included), for tests.
  [[nodiscard]] net::HttpRequest requestFor(std::shared_ptr<const std::string> body) const;

 private:
  struct Streamed;  // one streamed attempt's assembler and first-token time
  [[nodiscard]] Attempt attemptFrom(Result<net::HttpResponse> answer, Streamed* streamed) const;

  std::unique_ptr<net::HttpClient> http_;
  const config::HttpUrl url_;
  const std::optional<config::Secret> api_key_;
  const config::Auth auth_;
  const std::vector<config::Header> headers_;  // the endpoint's own
  const Clock& clock_;
  const bool stream_;
};

}  // namespace dropd::llm
