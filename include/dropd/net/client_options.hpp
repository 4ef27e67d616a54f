#pragma once

// Settings of one HttpClient (one endpoint). Plain values.

#include <chrono>
#include <cstddef>
#include <string>

namespace dropd::net {

// TLS for https endpoints (see http_client.hpp); ignored for http.
struct TlsOptions {
  bool verify = true;   // check the chain against the CAs and the URL's host
  std::string ca_file;  // PEM bundle; empty = the system's CAs
};

// The HTTP proxy every connection goes through (see http_client.hpp).
struct ProxyOptions {
  std::string host;  // empty: no proxy, connect to the endpoint itself
  int port = 0;
  // The Proxy-Authorization value ("Basic dXNlcjpwdw=="), empty for none.
  // A credential: it goes on the wire only, never into a log or an error.
  std::string authorization;

  [[nodiscard]] bool enabled() const noexcept { return !host.empty(); }
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};   // DNS + TCP connect
  std::chrono::milliseconds request_timeout{std::chrono::seconds(300)};  // write to last byte
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};      // pooled connection unused
  // The longest wait for the next read of a response once its first byte
  // came; for requests with HttpRequest::on_body (streamed answers) from
  // the request's write on, so the first byte too. Past it the request
  // fails kTimeout. 0: no limit but request_timeout.
  std::chrono::milliseconds read_idle_timeout{0};
  std::size_t max_connections = 8;             // per endpoint; further requests wait (FIFO)
  std::size_t max_response_bytes = 64u << 20;  // body cap; over it the request fails kTooLarge
  TlsOptions tls{};
  ProxyOptions proxy{};
};

}  // namespace dropd::net
