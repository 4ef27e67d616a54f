#include "status_client.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include "dropd/net/http_client.hpp"
#include "dropd/net/url.hpp"
#include "dropd/uv/loop.hpp"

namespace dropd::ops {
namespace {

using namespace std::chrono_literals;

constexpr auto kConnectTimeout = 5s;
constexpr auto kRequestTimeout = 30s;

net::Url urlOf(const StatusTarget& where) {
  net::Url url;
  url.scheme = "http";
  url.host = where.host;
  url.port = where.port;
  url.target = "/";
  return url;
}

}  // namespace

std::string StatusTarget::authority() const {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

StatusTarget statusTargetOf(const config::StatusConfig& status) {
  StatusTarget where{status.address.host, status.address.port, ""};
  if (where.host == "0.0.0.0") {
    where.host = "127.0.0.1";
  } else if (where.host == "::") {
    where.host = "::1";
  }
  if (status.token) {
    where.token = status.token->reveal();
  }
  return where;
}

Result<net::HttpResponse> fetchStatus(const StatusTarget& where, const std::string& target) {
  auto loop = uv::Loop::create();
  if (!loop) {
    return tl::unexpected(loop.error());
  }
  net::ClientOptions options;
  options.connect_timeout = kConnectTimeout;
  options.request_timeout = kRequestTimeout;
  options.max_connections = 1;
  auto client = net::HttpClient::create(loop->get(), urlOf(where), options);
  if (!client) {
    return tl::unexpected(client.error());
  }
  net::HttpRequest request;
  request.method = "GET";
  request.target = target;
  request.headers.push_back({"Accept", "application/json"});
  if (!where.token.empty()) {
    request.headers.push_back({"Authorization", "Bearer " + where.token});
  }
  std::optional<Result<net::HttpResponse>> answer;
  (*client)->send(std::move(request),
                  [&answer](Result<net::HttpResponse> r) { answer = std::move(r); });
  while (!answer && loop->run(UV_RUN_ONCE)) {
  }
  (*client)->close();
  client->reset();  // its handles close; ~Loop runs the loop until they are gone
  if (!answer) {
    return makeError(ErrorCode::kCancelled, "GET " + target + ": the loop ran dry");
  }
  return std::move(*answer);
}

}  // namespace dropd::ops
