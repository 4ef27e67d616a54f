// noProxyMatches() on any list, host and port: it is total, "*" matches
// every host, a list never stops matching when entries are added to it,
// a name or address listed as it is matches itself, and the result does
// not depend on the host's case.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/config/no_proxy.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::config::noProxyMatches;

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  return out;
}

// A host name or IPv4 address as a URL gives it: letters, digits, '-' and
// dots between labels.
bool plainHost(std::string_view host) {
  return !host.empty() && !host.starts_with('.') && host.find("..") == std::string_view::npos &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
         });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput in(data, size);
  const auto port = in.takeInt<std::uint16_t>();
  const std::string host(in.takeShortString());
  const std::string extra(in.takeShortString());
  const std::string list(in.takeRest());

  const bool matched = noProxyMatches(list, host, port);
  DROPD_FUZZ_CHECK(!matched || noProxyMatches(list + "," + extra, host, port));
  DROPD_FUZZ_CHECK(!matched || noProxyMatches(extra + " " + list, host, port));
  if (!host.empty()) {
    DROPD_FUZZ_CHECK(noProxyMatches("*", host, port));
    DROPD_FUZZ_CHECK(noProxyMatches(list + ",*", host, port));
  }
  if (plainHost(host)) {
    // A name or IPv4 address listed as it is; a name below it matches too.
    DROPD_FUZZ_CHECK(noProxyMatches(host, host, port));
    DROPD_FUZZ_CHECK(noProxyMatches(host + ":" + std::to_string(port), host, port));
  }
  DROPD_FUZZ_CHECK(noProxyMatches(list, upper(host), port) == matched || upper(host) == host ||
                   host.find(':') != std::string::npos);
  return 0;
}
