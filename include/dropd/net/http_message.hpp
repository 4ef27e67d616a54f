#pragma once

// Plain HTTP/1.1 message values shared by the client and the server. Any
// thread; no I/O.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dropd::net {

struct Header {
  std::string name;
  std::string value;
};

// Case-insensitive lookup of the first header named `name`; null if absent.
[[nodiscard]] const std::string* findHeader(const std::vector<Header>& headers,
                                            std::string_view name) noexcept;
[[nodiscard]] bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept;

// What the client sends. The client adds Host, Content-Length and
// Connection itself and drops caller headers of those names.
struct HttpRequest {
  std::string method = "POST";
  std::string target = "/";
  std::vector<Header> headers;
  std::string body;
  // When set, sent instead of `body` and shared, not copied: a caller that
  // may send the same body again (retries) keeps its own reference.
  std::shared_ptr<const std::string> shared_body;
  // When set, the body of a 2xx response is not kept: each piece of it
  // (chunked framing undone) goes here as it is read, on the loop thread,
  // before the send() callback, which then gets an empty body. Answers of
  // other statuses are read whole as usual. max_response_bytes still caps
  // the total, and ClientOptions::read_idle_timeout the gap between reads.
  // It must not call back into the HttpClient (send, close, destroy).
  std::function<void(std::string_view)> on_body;

  [[nodiscard]] std::size_t bodySize() const noexcept {
    return shared_body ? shared_body->size() : body.size();
  }
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;

  [[nodiscard]] const std::string* header(std::string_view name) const noexcept {
    return findHeader(headers, name);
  }
};

// What the server hands its handler.
struct ServerRequest {
  std::string method;
  std::string target;
  std::vector<Header> headers;
  std::string body;
  std::string peer_address;  // "127.0.0.1", for loopback-only endpoints

  [[nodiscard]] const std::string* header(std::string_view name) const noexcept {
    return findHeader(headers, name);
  }
};

// The standard reason phrase ("Not Found"), "Unknown" for codes without one.
[[nodiscard]] std::string_view reasonPhrase(int status) noexcept;

}  // namespace dropd::net
