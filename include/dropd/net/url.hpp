#pragma once

// An http:// or https:// URL split into what the HTTP client needs. Pure
// value type, any thread.

#include <string>
#include <string_view>

#include "dropd/base/error.hpp"

namespace dropd::net {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // name or IP literal, IPv6 without brackets ("::1")
  int port = 0;        // explicit, else 80 / 443
  std::string target;  // path and query, "/" when empty; never the fragment

  // Parses "http[s]://host[:port][/path][?query][#fragment]". Userinfo
  // (user:pass@) is refused so that credentials never sit in a URL. Errors
  // are kInvalid with the reason and the URL.
  [[nodiscard]] static Result<Url> parse(std::string_view text);

  [[nodiscard]] bool tls() const noexcept { return scheme == "https"; }
  [[nodiscard]] bool hostIsIpv6() const noexcept;
  // The Host header's value: brackets for IPv6, the port unless default.
  [[nodiscard]] std::string hostHeader() const;
  // "host:port" for logs and error messages.
  [[nodiscard]] std::string authority() const;
};

}  // namespace dropd::net
