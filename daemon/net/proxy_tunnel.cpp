#include "net/proxy_tunnel.hpp"

#include "dropd/net/connect_reply.hpp"

namespace dropd::net::detail {
namespace {

// A proxy's CONNECT answer is a status line and a few headers.
constexpr std::size_t kMaxHeadBytes = 16 * 1024;

std::string hostPort(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string proxyName(const ProxyOptions& proxy) {
  return "proxy " + hostPort(proxy.host, proxy.port);
}

Error proxyAuthRequired(const ProxyOptions& proxy, int status) {
  const char* what = status == 407 ? "proxy auth required" : "proxy auth refused";
  return Error{ErrorCode::kRejected, 0,
               proxyName(proxy) + ": " + what + " (" + std::to_string(status) + ")"};
}

ProxyTunnel::ProxyTunnel(const Url& target, const ProxyOptions& proxy)
    : target_(target), proxy_(proxy) {}

std::string ProxyTunnel::request() const {
  // The authority form, port always given (RFC 9110 §9.3.6).
  const std::string authority = target_.authority();
  std::string head = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (!proxy_.authorization.empty()) {
    head += "Proxy-Authorization: " + proxy_.authorization + "\r\n";
  }
  head += "\r\n";
  return head;
}

Result<bool> ProxyTunnel::feed(std::string_view data) {
  received_.append(data.substr(0, kMaxHeadBytes + 1));
  const ConnectReply reply = parseConnectReply(received_, kMaxHeadBytes);
  switch (reply.state) {
    case ConnectReply::State::kIncomplete:
      return false;
    case ConnectReply::State::kMalformed:
      return malformed(received_.size() > kMaxHeadBytes ? "head over 16 KiB" : "not HTTP/1.x");
    case ConnectReply::State::kDone:
      break;
  }
  // tinyproxy answers a CONNECT with wrong credentials 401, not 407; the
  // endpoint never saw that request, so the 401 is the proxy's too.
  if (reply.status == 407 || reply.status == 401) {
    return tl::unexpected(proxyAuthRequired(proxy_, reply.status));
  }
  if (reply.status < 200 || reply.status > 299) {
    return makeError(ErrorCode::kProtocol, "CONNECT " + target_.authority() + " via " +
                                               proxyName(proxy_) + ": proxy answered " +
                                               std::to_string(reply.status));
  }
  if (reply.head_bytes != received_.size()) {
    return malformed("bytes after the head, before our TLS hello");
  }
  received_.clear();
  return true;
}

tl::unexpected<Error> ProxyTunnel::malformed(std::string_view why) const {
  return makeError(ErrorCode::kProtocol, "CONNECT " + target_.authority() + " via " +
                                             proxyName(proxy_) + ": malformed answer (" +
                                             std::string(why) + ")");
}

}  // namespace dropd::net::detail
