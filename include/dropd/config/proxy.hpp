#pragma once

// Which HTTP proxy an endpoint goes through, and the pure rules that decide
// it from the config's `proxy:` key and the environment (docs/config.md,
// "proxy"). Any thread; no I/O: the environment comes in as a lookup.
//
// The environment, read only when `proxy:` is unset (curl's rules):
//   - https endpoints: https_proxy, then HTTPS_PROXY;
//   - http endpoints: http_proxy only, never HTTP_PROXY (a CGI program's
//     environment has HTTP_PROXY from the request's "Proxy:" header,
//     "httpoxy");
//   - then all_proxy, then ALL_PROXY;
//   - no_proxy, then NO_PROXY (no_proxy.hpp) can then still say "direct".
// An empty variable counts as unset.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"
#include "dropd/config/secret.hpp"

namespace dropd::config {

// An http:// proxy. Only http:// proxies are built: the hop to the proxy is
// in the clear, an https endpoint's traffic goes through it in a CONNECT
// tunnel, TLS end to end.
struct Proxy {
  std::string host;  // name or IP literal, IPv6 without brackets
  std::uint16_t port = 1080;
  std::string username;            // empty: no Proxy-Authorization
  std::optional<Secret> password;  // with username: basic auth
  std::string source;              // where it was set: "endpoints.NAME.proxy", "env https_proxy"

  // "http://host:port", without credentials: safe to log.
  [[nodiscard]] std::string display() const;
  // base64("username:password") for "Proxy-Authorization: Basic ...", empty
  // without a username. A credential: only for the request and SecretMask.
  [[nodiscard]] std::string basicCredentials() const;
};

// A proxy URL split up. `password` is the userinfo's, decoded; the caller
// wraps it in a Secret at once.
struct ProxyUrl {
  std::string host;
  std::uint16_t port = 1080;
  std::string username;
  std::optional<std::string> password;
};

// "http://[user[:password]@]host[:port][/]", or "host[:port]" with no
// scheme (curl reads that as http). The port defaults to 1080, as curl's
// does. Userinfo is percent-decoded. Errors are kInvalid and never repeat
// the userinfo: "https:// proxies (TLS to the proxy) are not built; use an
// http:// proxy", "SOCKS proxies are not supported", "bad proxy port ...".
[[nodiscard]] Result<ProxyUrl> parseProxyUrl(std::string_view text);

// The variable that names the proxy for an endpoint of `scheme` ("http" or
// "https"), by the rules above.
struct EnvVar {
  std::string name;
  std::string value;
};
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
[[nodiscard]] std::optional<EnvVar> proxyVarFor(std::string_view scheme, const EnvLookup& env);
// no_proxy, then NO_PROXY.
[[nodiscard]] std::optional<EnvVar> noProxyVar(const EnvLookup& env);

}  // namespace dropd::config
