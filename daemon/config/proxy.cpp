#include "dropd/config/proxy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "dropd/base/percent_decode.hpp"

namespace dropd::config {
namespace {

tl::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalid, std::move(message));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return out;
}

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool isIpv6(const std::string& host) {
  unsigned char addr[16];
  return inet_pton(AF_INET6, host.c_str(), addr) == 1;
}

// The scheme's verdict: the rest after "scheme://", or why not.
Result<std::string_view> stripScheme(std::string_view text) {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return text;  // "host:port": curl takes it as http
  }
  const std::string scheme = lower(text.substr(0, sep));
  if (scheme == "http") {
    return text.substr(sep + 3);
  }
  if (scheme == "https") {
    return invalid("https:// proxies (TLS to the proxy) are not built; use an http:// proxy");
  }
  if (scheme.starts_with("socks")) {
    return invalid(scheme + ":// (SOCKS) proxies are not built; use an http:// proxy");
  }
  return invalid("proxy URL scheme must be http://");
}

Status parseHostPort(std::string_view authority, ProxyUrl& out) {
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    out.host = std::string(authority.substr(1, close == std::string_view::npos ? 0 : close - 1));
    if (close == std::string_view::npos || !isIpv6(out.host)) {
      return invalid("proxy URL has a bad IPv6 address");
    }
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return invalid("proxy URL has junk after its IPv6 address");
    }
    port_text = rest.empty() ? rest : rest.substr(1);
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    port_text = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1);
    if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), isHostChar)) {
      return invalid("proxy URL has no valid host");
    }
    if (colon != std::string_view::npos && port_text.empty()) {
      return invalid("proxy URL has an empty port");
    }
  }
  if (port_text.empty()) {
    return {};
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return invalid("proxy URL port is not a number from 1 to 65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  return {};
}

std::optional<EnvVar> firstSet(std::initializer_list<const char*> names, const EnvLookup& env) {
  for (const char* name : names) {
    if (auto value = env(name); value && !value->empty()) {
      return EnvVar{name, std::move(*value)};
    }
  }
  return std::nullopt;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t block = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      block = (block << 8) | (j < n ? static_cast<unsigned char>(in[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(block >> (18 - 6 * j)) & 0x3F] : '=';
    }
  }
  return out;
}

}  // namespace

std::string Proxy::basicCredentials() const {
  if (username.empty()) {
    return {};
  }
  return base64(username + ":" + (password ? password->reveal() : std::string()));
}

std::string Proxy::display() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ProxyUrl> parseProxyUrl(std::string_view text) {
  auto rest = stripScheme(text);
  if (!rest) {
    return tl::unexpected(rest.error());
  }
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; })) {
    return invalid("proxy URL must not contain spaces or control characters");
  }
  std::string_view authority = *rest;
  if (const std::size_t slash = authority.find_first_of("/?#"); slash != std::string_view::npos) {
    if (authority.substr(slash) != "/") {
      return invalid("proxy URL must not have a path (http://host:port)");
    }
    authority = authority.substr(0, slash);
  }
  ProxyUrl out;
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    out.username = base::percentDecode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      out.password = base::percentDecode(userinfo.substr(colon + 1));
    }
    authority = authority.substr(at + 1);
  }
  if (auto ok = parseHostPort(authority, out); !ok) {
    return tl::unexpected(ok.error());
  }
  return out;
}

std::optional<EnvVar> proxyVarFor(std::string_view scheme, const EnvLookup& env) {
  // Lower case first, as curl; never HTTP_PROXY (httpoxy, see the header).
  auto picked = scheme == "https" ? firstSet({"https_proxy", "HTTPS_PROXY"}, env)
                                  : firstSet({"http_proxy"}, env);
  return picked ? picked : firstSet({"all_proxy", "ALL_PROXY"}, env);
}

std::optional<EnvVar> noProxyVar(const EnvLookup& env) {
  return firstSet({"no_proxy", "NO_PROXY"}, env);
}

}  // namespace dropd::config
