#pragma once

// HTTP/1.1 client for one endpoint (scheme, host, port), on the loop thread
// only. It keeps a pool of keep-alive connections: at most
// `max_connections`, one request per connection at a time, further requests
// wait in FIFO order. Idle connections close after `idle_timeout`.
//
// Each send() callback runs exactly once, on the loop thread, never from
// inside send() itself (except on a closed client, see below), with:
//   - an HttpResponse, whatever its status;
//   - kTimeout: connect (DNS included) or request (write to last byte) deadline;
//   - kSystem, sys = UV_ECONNREFUSED / UV_ECONNRESET / UV_EOF ...: the network;
//   - kProtocol: a malformed response;
//   - kTooLarge: a response body over max_response_bytes, refused at the
//     headers when its Content-Length says so (nothing of it is read), else
//     as soon as the chunked or read-until-close body passes the cap:
//     "response body over max_response_bytes (67108864): Content-Length
//     1099511627776". The connection is closed;
//   - kCancelled: close() was called.
//   - kTimeout also when a response stalled: no byte for
//     read_idle_timeout after one came (a request with on_body: after its
//     write, too): "request to HOST:PORT: no byte for 2000 ms
//     (read_idle_timeout)".
// A pooled connection that the server closed before any byte of our answer
// (the keep-alive race) is retried once on a fresh connection.
//
// Callbacks may call send() again, close() or destroy the client. Destroying
// the client drops pending callbacks without calling them (their owner is
// probably going away too); call close() first to have them cancelled.
//
// The request body is moved in and written straight from there (one uv_write
// of the head and the body): it is never copied. Over TLS, head and body
// are encrypted from there into one buffer for one uv_write.
//
// TLS: an https URL gets TLS (1.2 at least) on every connection, through
// OpenSSL memory BIOs over the same uv_tcp stream (daemon/net/transport.hpp
// and tls_session.hpp), with one SSL_CTX per client that its connections
// share. ClientOptions::tls says whether and against which CAs to verify;
// verification also checks the URL's host (name or IP) against the
// certificate, and a host name goes out as SNI. create() fails with
// kInvalid when the CA file cannot be loaded. TLS failures are kProtocol,
// never retried on a fresh connection, for example:
//   "TLS handshake with HOST:PORT: certificate verify failed: self-signed certificate"
//   "TLS handshake with HOST:PORT: certificate verify failed: hostname mismatch"
//   "TLS handshake with HOST:PORT: wrong version number"  (a plain-HTTP server)
//   "read(HOST:PORT): TLS connection closed without close_notify, response
//    may be truncated"  (a body delimited by the end of the connection only)
// A response whose framing (Content-Length, chunked) proves it whole is
// accepted even if the server then drops the connection without
// close_notify, as most servers do. Sessions are not resumed.
//
// Proxy: with ClientOptions::proxy set, every connection goes to the HTTP
// proxy. An http URL's requests go in the absolute form ("POST
// http://host:port/path HTTP/1.1") with Proxy-Authorization. An https
// URL's connection opens a tunnel first ("CONNECT host:port HTTP/1.1",
// under the connect deadline, daemon/net/proxy_tunnel.hpp), then TLS with
// the endpoint over it as above (SNI and verification against the URL's
// host); a pooled connection is an established tunnel. Errors name the
// proxy: "connect(proxy 127.0.0.1:8888): connection refused", "CONNECT
// HOST:PORT via proxy 127.0.0.1:8888: proxy answered 502" (kProtocol), and
// a 407, to CONNECT or to a request, is kRejected "proxy 127.0.0.1:8888:
// proxy auth required (407)", and so is a 401 to CONNECT ("proxy auth
// refused (401)", tinyproxy's answer to wrong credentials). The
// credential is never in an error.

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/net/client_options.hpp"
#include "dropd/net/http_message.hpp"
#include "dropd/net/url.hpp"

namespace dropd::net {

namespace detail {
class ClientConnection;
struct Exchange;
class ClientEvents;
class TlsContext;
}  // namespace detail

class HttpClient {
 public:
  using ResponseFn = std::function<void(Result<HttpResponse>)>;

  // `url` gives the endpoint; its target is only a default for requests
  // whose own target is empty.
  [[nodiscard]] static Result<std::unique_ptr<HttpClient>> create(uv_loop_t& loop, const Url& url,
                                                                  ClientOptions options);
  struct Key {  // only create() can construct: clients live behind a stable pointer
    explicit Key() = default;
  };
  HttpClient(Key key, uv_loop_t& loop, Url url, ClientOptions options);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  void send(HttpRequest request, ResponseFn cb);
  // Cancels waiting and in-flight requests (kCancelled) and closes every
  // connection. Later sends fail at once with kCancelled.
  void close();

  [[nodiscard]] std::size_t inFlight() const noexcept;  // on a connection now
  [[nodiscard]] std::size_t waiting() const noexcept;   // queued for a connection
  [[nodiscard]] std::size_t idleConnections() const noexcept;
  [[nodiscard]] std::size_t connections() const noexcept;  // all open or opening
  [[nodiscard]] std::size_t connectionsOpened() const noexcept { return opened_; }

 private:
  friend class detail::ClientEvents;
  using Completion = std::pair<ResponseFn, Result<HttpResponse>>;
  using Completions = std::vector<Completion>;

  [[nodiscard]] std::string serialiseHead(const HttpRequest& request) const;
  void pump(Completions& done);
  [[nodiscard]] detail::ClientConnection* pickIdle() noexcept;
  [[nodiscard]] detail::ClientConnection* openConnection(bool fresh_only);
  void startOn(detail::ClientConnection& conn, Completions& done);
  void removeConnection(detail::ClientConnection& conn) noexcept;
  void exchangeDone(detail::ClientConnection& conn, detail::Exchange exchange,
                    Result<HttpResponse> result);
  void idleClosed(detail::ClientConnection& conn);
  static void runCompletions(Completions done) noexcept;

  uv_loop_t& loop_;
  const Url url_;
  const ClientOptions options_;
  std::unique_ptr<detail::TlsContext> tls_;  // null for http; shared by the connections
  std::unique_ptr<detail::ClientEvents> events_;
  std::deque<std::unique_ptr<detail::Exchange>> waiting_;  // FIFO
  std::vector<std::unique_ptr<detail::ClientConnection>> connections_;
  std::size_t opened_ = 0;
  bool closed_ = false;
};

}  // namespace dropd::net
