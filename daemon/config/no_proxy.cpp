#include "dropd/config/no_proxy.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>

namespace dropd::config {
namespace {

// An address in network byte order, IPv4 ones in their first 4 bytes.
struct IpAddress {
  std::array<unsigned char, 16> bytes{};
  bool v6 = false;
};

std::optional<IpAddress> parseIp(std::string_view text) {
  if (text.empty() || text.size() > 45) {
    return std::nullopt;
  }
  const std::string z(text);  // inet_pton wants a terminated string
  IpAddress ip;
  if (inet_pton(AF_INET, z.c_str(), ip.bytes.data()) == 1) {
    return ip;
  }
  ip.v6 = true;
  if (inet_pton(AF_INET6, z.c_str(), ip.bytes.data()) == 1) {
    return ip;
  }
  return std::nullopt;
}

bool sameNetwork(const IpAddress& a, const IpAddress& b, unsigned bits) {
  for (unsigned i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const unsigned mask = bits >= 8 ? 0xFFu : (0xFFu << (8 - bits)) & 0xFFu;
    if ((a.bytes[i] & mask) != (b.bytes[i] & mask)) {
      return false;
    }
  }
  return true;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view stripTrailingDot(std::string_view name) {
  return name.ends_with('.') ? name.substr(0, name.size() - 1) : name;
}

// "example.com" (or ".example.com") against a host name.
bool nameMatches(std::string_view entry, std::string_view host) {
  entry = stripTrailingDot(entry.starts_with('.') ? entry.substr(1) : entry);
  host = stripTrailingDot(host);
  if (entry.empty() || entry.size() > host.size()) {
    return false;
  }
  const std::string_view tail = host.substr(host.size() - entry.size());
  return equalsIgnoreCase(entry, tail) &&
         (tail.size() == host.size() || host[host.size() - entry.size() - 1] == '.');
}

// "10.0.0.0/8", "::1", "127.0.0.1" against an address.
bool addressMatches(std::string_view entry, const IpAddress& host) {
  const std::size_t slash = entry.find('/');
  const auto ip = parseIp(entry.substr(0, slash));
  if (!ip || ip->v6 != host.v6) {
    return false;
  }
  const unsigned max_bits = ip->v6 ? 128 : 32;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view text = entry.substr(slash + 1);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || bits > max_bits) {
      return false;
    }
  }
  return sameNetwork(*ip, host, bits);
}

// Splits "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal.
// False when the port part is not a number from 0 to 65535.
bool splitPort(std::string_view entry, std::string_view& host, std::optional<unsigned>& port) {
  std::string_view port_text;
  if (entry.starts_with('[')) {
    const std::size_t close = entry.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    host = entry.substr(1, close - 1);
    const std::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return false;
    }
    if (rest.empty()) {
      return true;
    }
    port_text = rest.substr(1);
  } else if (const std::size_t colon = entry.find(':');
             colon != std::string_view::npos &&
             entry.find(':', colon + 1) == std::string_view::npos) {
    host = entry.substr(0, colon);
    port_text = entry.substr(colon + 1);
  } else {
    host = entry;  // no colon, or several: an IPv6 literal without a port
    return true;
  }
  unsigned value = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      value > 65535) {
    return false;
  }
  port = value;
  return true;
}

bool entryMatches(std::string_view entry, std::string_view host,
                  const std::optional<IpAddress>& host_ip, std::uint16_t port) {
  if (entry == "*") {
    return true;
  }
  std::string_view entry_host;
  std::optional<unsigned> entry_port;
  if (!splitPort(entry, entry_host, entry_port) || entry_host.empty()) {
    return false;
  }
  if (entry_port && *entry_port != port) {
    return false;
  }
  return host_ip ? addressMatches(entry_host, *host_ip) : nameMatches(entry_host, host);
}

}  // namespace

bool noProxyMatches(std::string_view no_proxy, std::string_view host, std::uint16_t port) noexcept {
  if (host.starts_with('[') && host.ends_with(']') && host.size() >= 2) {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    return false;
  }
  const std::optional<IpAddress> host_ip = parseIp(host);
  std::size_t start = 0;
  while (start < no_proxy.size()) {
    std::size_t end = no_proxy.find_first_of(", \t", start);
    end = end == std::string_view::npos ? no_proxy.size() : end;
    const std::string_view entry = no_proxy.substr(start, end - start);
    if (!entry.empty() && entryMatches(entry, host, host_ip, port)) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace dropd::config
