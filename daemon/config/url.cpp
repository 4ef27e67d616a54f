#include "dropd/config/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace dropd::config {
namespace {

tl::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalid, std::move(message));
}

// Reads "65535" into `port`; fails on anything else (sign, junk, > 65535).
bool parsePort(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5) {
    return false;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// Splits "host:port" or "[v6]:port" into host (brackets removed) and the
// port text after the colon, which is empty when there is no port.
bool splitHostPort(std::string_view authority, std::string_view& host, std::string_view& port,
                   bool& has_port) {
  std::size_t host_end = 0;
  if (authority.starts_with('[')) {
    host_end = authority.find(']');
    if (host_end == std::string_view::npos) {
      return false;
    }
    host = authority.substr(1, host_end - 1);
    ++host_end;
  } else {
    host_end = std::min(authority.find(':'), authority.size());
    host = authority.substr(0, host_end);
  }
  const std::string_view rest = authority.substr(host_end);
  has_port = !rest.empty();
  if (has_port && !rest.starts_with(':')) {
    return false;
  }
  port = has_port ? rest.substr(1) : std::string_view{};
  return true;
}

bool isIpv6(std::string_view host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, std::string(host).c_str(), &addr) == 1;
}

}  // namespace

Result<HttpUrl> parseHttpUrl(std::string_view text) {
  HttpUrl url{std::string(text), {}, {}, 0, {}};
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return invalid("url must start with http:// or https://");
  }
  url.scheme = std::string(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    return invalid(fmt::format("url scheme '{}' is not supported: use http or https", url.scheme));
  }
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return c <= ' ' || c == '\x7f' || c == '#'; })) {
    return invalid("url must not contain spaces, control characters or a '#' fragment");
  }
  const std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t path_start = std::min(rest.find_first_of("/?"), rest.size());
  const std::string_view authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("url must not hold credentials (user:password@); use api_key");
  }
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!splitHostPort(authority, host, port, has_port) || host.empty()) {
    return invalid("url has no valid host");
  }
  const bool bracketed = authority.starts_with('[');
  if (bracketed ? !isIpv6(host) : !std::all_of(host.begin(), host.end(), isHostChar)) {
    return invalid(fmt::format("url host '{}' is not a valid host name or IP address", host));
  }
  url.host = std::string(host);
  url.port = url.tls() ? 443 : 80;
  if (has_port && (!parsePort(port, url.port) || url.port == 0)) {
    return invalid(fmt::format("url port '{}' is not a number from 1 to 65535", port));
  }
  url.target = path_start < rest.size() ? std::string(rest.substr(path_start)) : "/";
  if (url.target.starts_with('?')) {
    url.target = "/" + url.target;
  }
  return url;
}

Result<ListenAddress> parseListenAddress(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  ListenAddress address;
  if (!splitHostPort(text, host, port_text, has_port) || !has_port ||
      !parsePort(port_text, address.port)) {
    return invalid(fmt::format("'{}' is not HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464)", text));
  }
  address.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, address.host.c_str(), &v4) == 1) {
    address.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  } else if (text.starts_with('[') && inet_pton(AF_INET6, address.host.c_str(), &v6) == 1) {
    address.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else {
    return invalid(fmt::format("listen host '{}' must be an IP address or localhost", host));
  }
  return address;
}

}  // namespace dropd::config
