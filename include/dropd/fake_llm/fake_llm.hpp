#pragma once

// dropd-fake-llm as a library object: an OpenAI-compatible chat-completions
// endpoint on the project's own HttpServer, for tests (started in-process)
// and for the dropd-fake-llm executable (main.cpp is only its command line).
// Loop thread only.
//
//   POST /v1/chat/completions  chat.completion whose content is
//                              "fake: <first 8 words> (<N> bytes)" of the last
//                              user message; 400 on bad JSON; faults applied
//   GET  /healthz              200
//   POST /_fake/control        from loopback only: {"faults": [SPEC...],
//                              "latency": "DUR", "rpm": N, "tpm": N}
//                              replaces each key given (new limits start
//                              with fresh windows)
//   GET  /_fake/stats          {"connections": N, "chat_requests": N, "tls": B}:
//                              connections accepted since the start, this
//                              request's own included (over https, each is
//                              one TLS handshake), chat requests received
//   anything else              404 (405 for a wrong method on a known path)
//
// With echo_credentials, error messages end in " (you sent: NAME: VALUE)" and
// a completion's content in " [you sent: NAME: VALUE]".
//
// Chat requests pass the rate limits of rate_limit.hpp (config.limits)
// unless a terminal fault answers them first; over a limit the answer is
// an immediate 429 with Retry-After, and every answer to an admitted or
// refused request carries the x-ratelimit-* headers.
//
// Latency and delays are uv timers: the loop never blocks. With a TLS
// certificate and key it serves https (HttpServer's TLS) instead of http.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/clock.hpp"
#include "dropd/fake_llm/completion.hpp"
#include "dropd/fake_llm/fault.hpp"
#include "dropd/fake_llm/rate_limit.hpp"
#include "dropd/fake_llm/request_log.hpp"
#include "dropd/net/http_server.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::fake_llm {

struct FakeLlmConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port, see FakeLlm::port()
  std::chrono::milliseconds latency{0};
  std::vector<Fault> faults;
  RateLimits limits{};  // --rpm / --tpm; 0: none
  std::uint64_t seed = 42;
  std::string request_log;  // path; empty: no log
  std::string tls_cert;     // PEM chain; with tls_key: serve https
  std::string tls_key;      // PEM private key of tls_cert
  // Every answer, error or not, quotes the request's credentials whole
  // (Authorization, api-key, x-api-key): a careless gateway, for tests of
  // dropd's secret masking (--echo-credentials).
  bool echo_credentials = false;
  // Every completion's content is the last user message itself, so a test
  // sees exactly what dropd sent (--echo-content).
  bool echo_content = false;
  // The model's context in tokens (contextTokens(), completion.hpp): a
  // request over it gets OpenAI's 400 context_length_exceeded. 0: none.
  std::uint64_t context_tokens = 0;
  std::shared_ptr<spdlog::logger> log{};  // one debug line per request; null: silent
};

class FakeLlm {
 public:
  // Binds and starts serving. `clock` must outlive the FakeLlm.
  [[nodiscard]] static Result<std::unique_ptr<FakeLlm>> start(uv_loop_t& loop, FakeLlmConfig config,
                                                              const Clock& clock);
  struct Key {  // only start() can construct: the server points back at us
    explicit Key() = default;
  };
  FakeLlm(Key key, uv_loop_t& loop, FakeLlmConfig config, const Clock& clock);
  FakeLlm(const FakeLlm&) = delete;
  FakeLlm& operator=(const FakeLlm&) = delete;
  ~FakeLlm();

  [[nodiscard]] int port() const noexcept { return server_->port(); }
  [[nodiscard]] const std::string& host() const noexcept { return config_.host; }
  // Stops serving: closes every connection and drops delayed answers.
  void close();

  void setFaults(std::vector<Fault> faults) { config_.faults = std::move(faults); }
  void setLatency(std::chrono::milliseconds latency) { config_.latency = latency; }
  void setLimits(RateLimits limits) { limiter_.setLimits(limits, clock_.now()); }
  [[nodiscard]] std::uint64_t chatRequests() const noexcept { return chat_requests_; }

 private:
  struct Pending;  // one chat answer waiting for its delay

  void onRequest(net::ServerRequest&& request, net::Responder responder);
  void onChat(const net::ServerRequest& request, net::Responder responder);
  void onControl(const net::ServerRequest& request, const net::Responder& responder);
  void answerChat(const Pending& pending);
  void answerLater(std::chrono::milliseconds delay, Pending pending);
  void answerRateLimited(const Pending& pending, const Admission& admission);
  void logRequest(const ChatRequest& chat, int status, const std::string& fault);

  uv_loop_t& loop_;
  FakeLlmConfig config_;
  const Clock& clock_;
  FaultPicker picker_;
  const MonoTime started_;  // outage windows count from here
  RateLimiter limiter_;
  std::optional<RequestLog> request_log_;
  std::unique_ptr<net::HttpServer> server_;
  std::unordered_map<std::uint64_t, uv::Timer> delayed_;
  std::uint64_t chat_requests_ = 0;
};

}  // namespace dropd::fake_llm
