#pragma once

// The NO_PROXY / no_proxy rule: does a host skip the proxy? Pure; any
// thread. Follows curl 7.88 (Debian 12), plus ports:
//
//   - entries are separated by commas or spaces; empty entries are ignored;
//   - "*" alone (the whole list, or one entry) matches every host;
//   - a name matches itself and every name below it, without case:
//     "example.com" and ".example.com" both match "example.com" and
//     "api.example.com", never "notexample.com"; a trailing dot on either
//     side is ignored;
//   - an IP address (IPv4, or IPv6 with or without brackets) matches that
//     address only, compared as addresses ("::1" == "0:0:0:0:0:0:0:1");
//     with "/BITS" (CIDR, as curl has since 7.86) every address in the
//     network; names and addresses never match each other (no DNS here);
//   - "ENTRY:PORT" ("[v6]:PORT" for IPv6) matches that port only, which
//     curl does not read (Python's and Go's rules do); no port: any port.

#include <cstdint>
#include <string_view>

namespace dropd::config {

// `host` is a name or an IP literal (IPv6 without brackets), as in a URL.
[[nodiscard]] bool noProxyMatches(std::string_view no_proxy, std::string_view host,
                                  std::uint16_t port) noexcept;

}  // namespace dropd::config
