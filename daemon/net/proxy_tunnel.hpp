#pragma once

// The CONNECT step of an https connection through an HTTP proxy, between
// the TCP connect (to the proxy) and the TLS start (with the endpoint, over
// the tunnel). No I/O: ClientConnection writes request(), feeds what it
// reads into feed(), and starts TLS once feed() says the tunnel is up.
// Loop thread only, one per connection, dropped once the tunnel is up: a
// pooled connection is a tunnel already, so it never runs again there.
//
// Errors of feed(), none of them the keep-alive race:
//   kRejected "proxy HOST:PORT: proxy auth required (407)": no
//       credentials, or wrong ones; "... proxy auth refused (401)" for a
//       401 to CONNECT, which is the proxy's too (tinyproxy answers wrong
//       credentials so); the LLM client pauses the endpoint on it as on a
//       bad key (llm/status_class.hpp);
//   kProtocol "CONNECT TARGET via proxy HOST:PORT: proxy answered 502":
//       any other non-2xx, retried like a network failure;
//   kProtocol "CONNECT TARGET via proxy HOST:PORT: malformed answer ..."
//       for a head that is not HTTP, too long, or followed by bytes before
//       our TLS hello (a TLS server never speaks first).

#include <string>
#include <string_view>

#include "dropd/base/error.hpp"
#include "dropd/net/client_options.hpp"
#include "dropd/net/url.hpp"

namespace dropd::net::detail {

// "proxy 127.0.0.1:8888", the name errors give a proxy.
[[nodiscard]] std::string proxyName(const ProxyOptions& proxy);
// The 407 (or, to CONNECT, 401) error, for CONNECT and for a plain-http
// request through a proxy.
[[nodiscard]] Error proxyAuthRequired(const ProxyOptions& proxy, int status);

class ProxyTunnel {
 public:
  // Both must outlive the tunnel (the HttpClient owns them).
  ProxyTunnel(const Url& target, const ProxyOptions& proxy);

  // "CONNECT host:port HTTP/1.1" with Host and, when set,
  // Proxy-Authorization. Holds the credential: write it, never log it.
  [[nodiscard]] std::string request() const;
  // Bytes read from the proxy. True once the 2xx head is complete (the
  // tunnel is up), false while more is needed; an error as above.
  [[nodiscard]] Result<bool> feed(std::string_view data);

 private:
  [[nodiscard]] tl::unexpected<Error> malformed(std::string_view why) const;

  const Url& target_;
  const ProxyOptions& proxy_;
  std::string received_;  // the answer's head so far
};

}  // namespace dropd::net::detail
