#pragma once

// One accepted connection of an HttpServer, plain or TLS (the Transport
// hides which). Loop thread only. Reads
// requests with llhttp (keep-alive; pipelined requests wait their turn),
// hands each to the handler with a Responder, writes the answer.
//
// Owned by the HttpServer through a shared_ptr because Responders hold weak
// references to it: a delayed answer must find out that the client left.
// Every entry point from libuv keeps `self` alive while it runs, since a
// handler may answer (and close) synchronously.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dropd/net/http_message.hpp"
#include "dropd/net/http_parser.hpp"
#include "dropd/net/responder.hpp"

#include "net/transport.hpp"

namespace dropd::net::detail {

// One answer as the connection writes it.
struct Answer {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  bool chunked = false;  // `body` is already chunk-encoded
};

class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  using Handler = std::function<void(ServerRequest&&, Responder)>;
  using ClosedFn = std::function<void(std::uint64_t id)>;

  ServerConnection(std::uint64_t id, Transport stream, ParserLimits limits);
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // `handler` and `on_closed` must outlive the connection's open life.
  [[nodiscard]] Status start(const Handler& handler, ClosedFn on_closed);
  // Graceful: closes now if idle, else right after the current answer.
  void closeWhenIdle();
  void closeNow() noexcept;

  // Used by Responder. Each returns false if `request_id` is not the one
  // waiting for an answer (already answered, or the connection is gone).
  bool respond(std::uint64_t request_id, Answer answer);
  bool respondRaw(std::uint64_t request_id, std::vector<std::string> pieces,
                  Responder::After after);
  [[nodiscard]] bool awaiting(std::uint64_t request_id) const noexcept;

  // Used by Responder and ResponseStream: a body written over time. While
  // it streams the request counts as unanswered (pipelined requests wait,
  // closeWhenIdle() waits), but respond() refuses it.
  bool startStream(std::uint64_t request_id, int status, std::vector<Header> headers);
  bool streamWrite(std::uint64_t request_id, std::string chunk);
  // Bytes shared with other writes (a StreamChunk's), sent without a copy.
  bool streamWrite(std::uint64_t request_id, std::shared_ptr<const std::string> bytes);
  bool streamEnd(std::uint64_t request_id);
  [[nodiscard]] bool streaming(std::uint64_t request_id) const noexcept;
  [[nodiscard]] std::size_t queuedBytes() const noexcept;

 private:
  void onRead(Result<std::string_view> data);
  void consume(std::string_view data);
  void dispatch();
  void answerError(int status, std::string_view message);
  // One uv_write of `head` then `body` (either may be empty) while streaming.
  bool streamSend(std::uint64_t request_id, std::string head,
                  std::shared_ptr<const std::string> body);
  void writePieces(std::shared_ptr<std::vector<std::string>> pieces, std::size_t index,
                   Responder::After after);
  void afterWrite(Responder::After after);
  void drainPending();
  void resetNow() noexcept;

  const std::uint64_t id_;
  std::optional<Transport> stream_;
  HttpParser parser_;
  const Handler* handler_ = nullptr;
  ClosedFn on_closed_;
  std::string peer_address_;
  std::string pending_;            // bytes read while a request was being handled
  std::uint64_t awaiting_id_ = 0;  // the request waiting for its answer, 0 if none
  std::uint64_t next_request_id_ = 1;
  bool keep_alive_ = true;  // of the request being answered
  bool close_when_idle_ = false;
  bool in_consume_ = false;
  bool streaming_ = false;  // awaiting_id_'s head is out, its body goes on
};

}  // namespace dropd::net::detail
