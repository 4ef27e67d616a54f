#include "dropd/net/http_server.hpp"

#include "net/server_connection.hpp"
#include "net/tls_context.hpp"
#include "net/transport.hpp"

namespace dropd::net {

namespace {

// An accepted socket as the connection will use it: plain or TLS.
Result<detail::Transport> wrap(uv::TcpStream stream, const detail::TlsContext* tls) {
  if (tls == nullptr) {
    return detail::Transport{std::move(stream), std::nullopt};
  }
  auto session = detail::TlsSession::server(*tls, stream.peerAddress());
  if (!session) {
    return tl::unexpected{session.error()};
  }
  return detail::Transport{std::move(stream), std::move(*session)};
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::listen(uv_loop_t& loop, const std::string& host,
                                                       int port, Handler handler,
                                                       ServerOptions options) {
  auto server = std::make_unique<HttpServer>(Key{}, std::move(handler), options);
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    auto tls = detail::TlsContext::forServer(options.tls_cert_file, options.tls_key_file);
    if (!tls) {
      return tl::unexpected{tls.error()};
    }
    server->tls_ = std::make_unique<detail::TlsContext>(std::move(*tls));
  }
  HttpServer* raw = server.get();  // stable: the server never moves
  auto listener = uv::TcpListener::listen(
      loop, host, port, [raw](Result<uv::TcpStream> stream) { raw->onAccept(std::move(stream)); });
  if (!listener) {
    return tl::unexpected{listener.error()};
  }
  server->port_ = listener->port();
  server->listener_.emplace(std::move(*listener));
  return server;
}

HttpServer::HttpServer(Key /*key*/, Handler handler, ServerOptions options)
    : handler_(std::move(handler)), options_(options) {}

HttpServer::~HttpServer() { closeNow(); }

void HttpServer::onAccept(Result<uv::TcpStream> stream) {
  if (!stream) {
    return;  // EMFILE and friends: the client sees a reset; keep serving the others
  }
  if (options_.max_connections != 0 && connections_.size() >= options_.max_connections) {
    ++refused_;
    return;  // the stream closes as it goes out of scope: a FIN before any byte
  }
  auto transport = wrap(std::move(*stream), tls_.get());
  if (!transport) {
    return;  // the session could not be set up: drop this client only
  }
  const std::uint64_t id = ++accepted_;
  auto conn = std::make_shared<detail::ServerConnection>(
      id, std::move(*transport), ParserLimits{options_.max_header_bytes, options_.max_body_bytes});
  auto started =
      conn->start(handler_, [this](std::uint64_t closed) { connections_.erase(closed); });
  if (started) {
    connections_.emplace(id, std::move(conn));
  }
}

void HttpServer::close() {
  listener_.reset();
  // Copy first: closing erases from the map.
  std::vector<std::shared_ptr<detail::ServerConnection>> conns;
  conns.reserve(connections_.size());
  for (const auto& [id, conn] : connections_) {
    conns.push_back(conn);
  }
  for (const auto& conn : conns) {
    conn->closeWhenIdle();
  }
}

void HttpServer::closeNow() {
  listener_.reset();
  auto conns = std::move(connections_);
  connections_.clear();
  for (const auto& [id, conn] : conns) {
    conn->closeNow();
  }
}

}  // namespace dropd::net
