// Url::parse() on any text: a parsed URL is http or https, has a host with
// no whitespace or control bytes, a port in 1..65535 and a target that starts with '/' and holds no
// fragment, and writing it back out (scheme://Host-header + target) parses to the same URL.

#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/net/url.hpp"

#include "fuzz_check.hpp"

namespace {

using dropd::net::Url;

bool sameUrl(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.target == b.target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  const auto url = Url::parse(text);
  if (!url) {
    DROPD_FUZZ_CHECK(url.error().code == dropd::ErrorCode::kInvalid);
    return 0;
  }
  DROPD_FUZZ_CHECK(url->scheme == "http" || url->scheme == "https");
  DROPD_FUZZ_CHECK(!url->host.empty());
  DROPD_FUZZ_CHECK(url->port >= 1 && url->port <= 65535);
  DROPD_FUZZ_CHECK(url->target.starts_with('/'));
  DROPD_FUZZ_CHECK(url->target.find('#') == std::string::npos);
  DROPD_FUZZ_CHECK(url->host.find('@') == std::string::npos);
  // The host goes into the Host header: no whitespace or control bytes.
  for (const char c : url->host) {
    DROPD_FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7F);
  }
  DROPD_FUZZ_CHECK(!url->authority().empty());

  const std::string written = url->scheme + "://" + url->hostHeader() + url->target;
  const auto again = Url::parse(written);
  DROPD_FUZZ_CHECK(again.has_value());
  DROPD_FUZZ_CHECK(sameUrl(*url, *again));
  return 0;
}
