#pragma once

// The two kinds of address a config holds: an endpoint URL and the status
// server's listen address. Pure parsing, any thread, no DNS.

#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"

namespace dropd::config {

// An http(s) URL split into what an HTTP client needs.
struct HttpUrl {
  std::string text;        // as written
  std::string scheme;      // "http" or "https"
  std::string host;        // name or IP; an IPv6 literal without its brackets
  std::uint16_t port = 0;  // explicit, else 80 / 443
  std::string target;      // path and query, "/" when empty

  [[nodiscard]] bool tls() const { return scheme == "https"; }
};

// Refuses other schemes, user:password@ (credentials belong in api_key, and a
// message must never echo them), fragments, spaces and bad ports.
[[nodiscard]] Result<HttpUrl> parseHttpUrl(std::string_view text);

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464" (means 127.0.0.1),
// "0.0.0.0:9464". The host must be an IP literal (a listen address is not
// looked up); port 0 asks the kernel for a free one.
struct ListenAddress {
  std::string host;  // an IP literal, IPv6 without brackets
  std::uint16_t port = 0;
  bool loopback = false;  // 127.0.0.0/8 or ::1
};

[[nodiscard]] Result<ListenAddress> parseListenAddress(std::string_view text);

}  // namespace dropd::config
