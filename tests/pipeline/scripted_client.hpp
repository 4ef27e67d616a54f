#pragma once

// Test doubles for the Dispatcher and SendGate tests: an llm::Client that
// sends nothing and answers each request only when the test says, and
// Attempts as the real client would build them (sorted by llm's status
// table). No sockets, no timers. Loop thread only.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/llm/client.hpp"
#include "dropd/llm/status_class.hpp"

namespace dropd::test {

// Every send() waits in pending() until answer() or close().
class ScriptedClient final : public llm::Client {
 public:
  void send(std::shared_ptr<const std::string> body, AttemptFn done) override {
    ++sends_;
    pending_.push_back({std::move(body), std::move(done)});
  }

  // Cancels every pending request, as net::HttpClient::close() does.
  void close() override {
    auto cancelled = std::move(pending_);
    pending_.clear();
    for (auto& request : cancelled) {
      llm::Attempt attempt;
      attempt.cancelled = true;
      request.done(std::move(attempt));
    }
  }

  // Answers the oldest pending request whose body is `body`.
  void answer(std::string_view body, llm::Attempt attempt) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (*it->body == body) {
        AttemptFn done = std::move(it->done);
        pending_.erase(it);  // first: `done` may send again
        done(std::move(attempt));
        return;
      }
    }
    FAIL("no pending request with body " << body);
  }

  // Answers every request pending now (not those sent meanwhile) with
  // copies of `attempt`; returns how many.
  std::size_t answerAll(const llm::Attempt& attempt) {
    auto now = std::move(pending_);
    pending_.clear();
    for (auto& request : now) {
      request.done(attempt);
    }
    return now.size();
  }

  // The body of the oldest pending request ("" if none).
  [[nodiscard]] std::string oldestBody() const {
    return pending_.empty() ? std::string() : *pending_.front().body;
  }
  [[nodiscard]] std::size_t pending() const { return pending_.size(); }
  [[nodiscard]] std::size_t sends() const { return sends_; }

 private:
  struct Request {
    std::shared_ptr<const std::string> body;
    AttemptFn done;
  };
  std::vector<Request> pending_;
  std::size_t sends_ = 0;
};

// A 200 with a completion that used `tokens` in all.
inline llm::Attempt succeeded(std::chrono::milliseconds latency = std::chrono::milliseconds(100),
                              std::uint64_t tokens = 0) {
  llm::Attempt attempt;
  attempt.result = llm::Completion{"summary", "stop", {tokens, 0}};
  attempt.outcome = throttle::Outcome::kSuccess;
  attempt.latency = latency;
  return attempt;
}

// A non-2xx answer, sorted as HttpLlmClient would sort it.
inline llm::Attempt failed(int status, std::string_view error_code = {},
                           std::chrono::milliseconds latency = std::chrono::milliseconds(100)) {
  const llm::StatusClass sorted = llm::classifyAnswer(status, error_code);
  llm::Attempt attempt;
  attempt.result = tl::unexpected(
      llm::Failure{sorted.cls, sorted.kind, status, "HTTP " + std::to_string(status)});
  attempt.outcome = sorted.outcome;
  attempt.latency = latency;
  return attempt;
}

// An exchange without an answer (kTimeout, kSystem, ...).
inline llm::Attempt noAnswer(ErrorCode code) {
  const llm::StatusClass sorted = llm::classifyTransport(code);
  llm::Attempt attempt;
  attempt.result = tl::unexpected(llm::Failure{sorted.cls, sorted.kind, 0, "no answer"});
  attempt.outcome = sorted.outcome;
  return attempt;
}

}  // namespace dropd::test
