#pragma once

// A small HTTP/1.1 server on uv_tcp: dropd-fake-llm and the status server
// use it. Loop thread only. Keep-alive connections; pipelined requests are
// answered one after another; Content-Length and chunked request bodies up
// to `max_body_bytes` (413 beyond, 400 on a malformed request, then close).
//
// With ServerOptions::tls_cert_file and tls_key_file set it serves https
// instead (TLS 1.2 at least, through the client's memory-BIO transport,
// daemon/net/transport.hpp): listen() fails with kInvalid, naming the file,
// when the certificate or key cannot be loaded or do not match, and a
// connection whose handshake fails is closed without a word.
//
// The handler gets each request with a Responder and may answer at once or
// later (see responder.hpp). It must not destroy the server from inside
// itself; close() it instead and destroy it later.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/net/http_message.hpp"
#include "dropd/net/responder.hpp"
#include "dropd/uv/tcp_listener.hpp"

namespace dropd::net {

namespace detail {
class ServerConnection;
class TlsContext;
}  // namespace detail

struct ServerOptions {
  std::size_t max_body_bytes = 64u << 20;
  std::size_t max_header_bytes = 64u << 10;
  // Connections open at once; one accepted beyond it is closed at once,
  // unread (the client sees EOF). 0: no limit.
  std::size_t max_connections = 0;
  std::string tls_cert_file{};  // PEM chain, leaf first; empty (with the key): plain HTTP
  std::string tls_key_file{};   // PEM private key of that certificate
};

class HttpServer {
 public:
  using Handler = std::function<void(ServerRequest&&, Responder)>;

  // Binds `host` (IP literal) and `port` (0 = any free one) and listens.
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> listen(uv_loop_t& loop,
                                                                  const std::string& host, int port,
                                                                  Handler handler,
                                                                  ServerOptions options = {});
  struct Key {  // only listen() can construct: the listener points back at us
    explicit Key() = default;
  };
  HttpServer(Key key, Handler handler, ServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // closeNow()

  [[nodiscard]] int port() const noexcept { return port_; }
  // Graceful: stops accepting, closes idle connections now and the others
  // once their current request is answered.
  void close();
  // Stops accepting and drops every connection now; pending Responders
  // become no-ops.
  void closeNow();

  [[nodiscard]] std::size_t connections() const noexcept { return connections_.size(); }
  [[nodiscard]] std::uint64_t accepted() const noexcept { return accepted_; }
  // Connections closed unread because max_connections were open.
  [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }

 private:
  void onAccept(Result<uv::TcpStream> stream);

  const Handler handler_;
  const ServerOptions options_;
  std::unique_ptr<detail::TlsContext> tls_;  // null: plain HTTP
  std::optional<uv::TcpListener> listener_;
  // shared_ptr: Responders hold weak references (see server_connection.hpp).
  std::unordered_map<std::uint64_t, std::shared_ptr<detail::ServerConnection>> connections_;
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
  int port_ = 0;
};

}  // namespace dropd::net
