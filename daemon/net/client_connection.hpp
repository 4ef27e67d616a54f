#pragma once

// One keep-alive TCP connection of an HttpClient, carrying one request at a
// time, in the clear or over TLS (see transport.hpp). Through a proxy it
// connects to the proxy instead, and for TLS opens a CONNECT tunnel first
// (proxy_tunnel.hpp); errors then name the proxy: "connect(proxy
// 127.0.0.1:8888)". Loop thread only;
// owned by the HttpClient, which it reports to through Owner. Every report
// is the last thing the connection does in that callback, so the owner may
// destroy the connection from inside it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "dropd/net/client_options.hpp"
#include "dropd/net/gzip_decoder.hpp"
#include "dropd/net/http_message.hpp"
#include "dropd/net/http_parser.hpp"
#include "dropd/net/url.hpp"
#include "dropd/uv/resolver.hpp"
#include "dropd/uv/timer.hpp"

#include "net/proxy_tunnel.hpp"
#include "net/tls_context.hpp"
#include "net/transport.hpp"

namespace dropd::net::detail {

using ResponseFn = std::function<void(Result<HttpResponse>)>;

// One request while it is in the client's hands.
struct Exchange {
  std::string head;  // request line and headers, serialised once
  // Shared with an in-flight uv_write, which may outlive the exchange (a
  // cancelled request) or precede a retry of the same body: no copy either way.
  std::shared_ptr<const std::string> body;
  ResponseFn cb;
  std::function<void(std::string_view)> on_body;  // HttpRequest::on_body
  bool retried = false;                           // the keep-alive race was retried once already
};

// What the connections of one HttpClient share. The client owns all three
// and outlives its connections.
struct ClientShared {
  const Url& url;
  const ClientOptions& options;
  const TlsContext* tls;  // null: plain TCP
};

class ClientConnection {
 public:
  class Owner {
   public:
    // The exchange ended: a response, or an error. The connection is idle
    // again if idle(), else closed for good.
    virtual void onExchangeDone(ClientConnection& conn, Exchange exchange,
                                Result<HttpResponse> result) = 0;
    // An idle connection was closed (idle timeout, or the server hung up).
    virtual void onIdleClosed(ClientConnection& conn) = 0;

   protected:
    ~Owner() = default;
  };

  ClientConnection(uv_loop_t& loop, Owner& owner, ClientShared shared);
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Sends on this connection, connecting first if needed. On an immediate
  // failure `exchange` is left with the caller and the connection is dead.
  [[nodiscard]] Status send(Exchange& exchange);
  // Hands back the in-flight exchange (for cancellation), if any.
  [[nodiscard]] std::optional<Exchange> takeExchange();

  // Connected, unused, and free for the next request.
  [[nodiscard]] bool idle() const noexcept { return state_ == State::kIdle; }
  // After an error: the keep-alive race (a reused connection that the server
  // closed before any byte of the response), safe to retry once.
  [[nodiscard]] bool staleFailure() const noexcept { return stale_failure_; }

 private:
  // kTunnelling: connected to the proxy, waiting for its CONNECT answer.
  enum class State { kNew, kResolving, kConnecting, kTunnelling, kIdle, kBusy, kClosed };

  [[nodiscard]] Status resolve();
  [[nodiscard]] Status startConnect(std::vector<sockaddr_storage> addrs, std::size_t index);
  [[nodiscard]] Result<Transport> newTransport();
  void onConnected(Status status, std::vector<sockaddr_storage> addrs, std::size_t index);
  [[nodiscard]] Status startTunnel();
  void onTunnelRead(Result<std::string_view> data);
  // Whom the socket connects to: the proxy's host and port, else the URL's.
  [[nodiscard]] const std::string& peerHost() const noexcept;
  [[nodiscard]] int peerPort() const noexcept;
  // "127.0.0.1:8080" or "proxy 127.0.0.1:8888", for errors.
  [[nodiscard]] std::string peerName() const;
  [[nodiscard]] Status writeRequest();
  void onRead(Result<std::string_view> data);
  void onReadError(const Error& error);
  void onResponseComplete(bool reusable);
  void onTimeout();
  [[nodiscard]] Status armReadGap();
  [[nodiscard]] Status deliverBody();
  [[nodiscard]] Status decodeWhole(ParsedMessage& message) const;
  void goIdle();
  void fail(Error error);
  void closeSocket() noexcept;
  [[nodiscard]] Status armTimer(std::chrono::milliseconds timeout);

  uv_loop_t& loop_;
  Owner& owner_;
  const Url& url_;
  const ClientOptions& options_;
  const TlsContext* const tls_;
  State state_ = State::kNew;
  std::optional<uv::Resolver> resolver_;
  std::optional<Transport> stream_;
  std::optional<ProxyTunnel> tunnel_;   // while kTunnelling
  std::optional<uv::Timer> timer_;      // connect, request or idle deadline
  std::optional<uv::Timer> gap_timer_;  // read_idle_timeout, for on_body requests
  HttpParser parser_;
  std::optional<GzipDecoder> gzip_;  // an on_body 2xx answer in Content-Encoding: gzip
  std::optional<Exchange> exchange_;
  std::uint64_t served_ = 0;  // responses completed on this connection
  bool write_done_ = false;
  // The request's write failed (EPIPE, ECONNRESET): a server that answered
  // early (a 401 or 413 before the whole body) and closed. Its answer, if
  // it comes, says more than the write's error, which is the failure only
  // when the connection ends without one.
  std::optional<Error> write_error_;
  bool stale_failure_ = false;
};

}  // namespace dropd::net::detail
