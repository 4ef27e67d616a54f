#pragma once

// The interface the Dispatcher sends through: one request body in, one
// llm::Attempt out. HttpLlmClient (http_llm_client.hpp) is the real one, over
// net::HttpClient; tests script their own. Building the request, reading
// the answer and sorting failures (status_class.hpp) are the client's, so
// the Dispatcher sees no HTTP. Loop thread only.
//
// `done` runs exactly once per send(), on the loop thread, and never from
// inside send() itself, except after close(). close() cancels every request
// still out: their `done` runs with Attempt::cancelled set. `done` may
// destroy the client.

#include <functional>
#include <memory>
#include <string>

#include "dropd/llm/attempt.hpp"

namespace dropd::llm {

class Client {
 public:
  using AttemptFn = std::function<void(Attempt)>;

  virtual ~Client() = default;
  // `body` is the request's JSON, shared rather than copied so a retry sends
  // the same bytes.
  virtual void send(std::shared_ptr<const std::string> body, AttemptFn done) = 0;
  virtual void close() = 0;
};

}  // namespace dropd::llm
