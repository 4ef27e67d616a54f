#include "dropd/net/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dropd::net {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A host must come back out of hostHeader() as it went in: a bracketed one
// is an IPv6 literal (hex digits, ':' and '.' for an embedded IPv4; no zone
// ID), an unbracketed one holds no ':' or bracket (else "a:b:80" or "::1]"
// would be read as a host), and neither holds space, DEL or control bytes,
// which would let a URL inject into the Host header.
bool validHost(std::string_view host, bool bracketed) {
  if (bracketed) {
    return host.find(':') != std::string_view::npos &&
           host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
  }
  return std::none_of(host.begin(), host.end(), [](unsigned char c) {
    return c <= 0x20 || c == 0x7F || c == ':' || c == '[' || c == ']';
  });
}

tl::unexpected<Error> invalid(std::string_view why, std::string_view url) {
  return makeError(ErrorCode::kInvalid, std::string(why) + ": " + std::string(url));
}

// Splits "host[:port]" or "[v6]:port" into `url`.
Status parseAuthority(std::string_view authority, std::string_view text, Url& url) {
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return invalid("unclosed IPv6 bracket in URL", text);
    }
    url.host = lower(authority.substr(1, close - 1));
    const auto rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return invalid("junk after IPv6 address in URL", text);
    }
    port_text = rest.empty() ? rest : rest.substr(1);
  } else {
    const auto colon = authority.rfind(':');
    url.host = lower(authority.substr(0, colon));
    port_text = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    return invalid("no host in URL", text);
  }
  if (!validHost(url.host, authority.front() == '[')) {
    return invalid("bad host in URL", text);
  }
  if (port_text.empty()) {
    url.port = url.tls() ? 443 : 80;
    return {};
  }
  int port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return invalid("bad port in URL", text);
  }
  url.port = port;
  return {};
}

}  // namespace

Result<Url> Url::parse(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    return invalid("URL needs a scheme (http:// or https://)", text);
  }
  Url url;
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return invalid("URL scheme must be http or https", text);
  }
  std::string_view rest = text.substr(sep + 3);
  rest = rest.substr(0, rest.find('#'));
  const auto path_start = rest.find_first_of("/?");
  const auto authority = rest.substr(0, path_start);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("credentials in URLs are not accepted", text);
  }
  if (auto ok = parseAuthority(authority, text, url); !ok) {
    return tl::unexpected{ok.error()};
  }
  url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (url.target.front() == '?') {
    url.target.insert(0, "/");
  }
  if (url.target.find_first_of(" \r\n\t") != std::string::npos) {
    return invalid("whitespace in URL", text);
  }
  return url;
}

bool Url::hostIsIpv6() const noexcept { return host.find(':') != std::string::npos; }

std::string Url::hostHeader() const {
  std::string out = hostIsIpv6() ? "[" + host + "]" : host;
  if (port != (tls() ? 443 : 80)) {
    out += ":" + std::to_string(port);
  }
  return out;
}

std::string Url::authority() const {
  return (hostIsIpv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace dropd::net
