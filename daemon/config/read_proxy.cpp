// endpoints.NAME.proxy: `none`, a URL, or {url, username, password}; when
// unset, the environment by curl's rules (dropd/config/proxy.hpp).

#include <array>
#include <cstdlib>

#include <fmt/format.h>

#include "dropd/config/no_proxy.hpp"
#include "dropd/config/proxy.hpp"

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array kProxyKeys{"url"sv, "username"sv, "password"sv};

std::optional<std::string> getEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

// The URL of a `proxy:` written in the config. Credentials go in
// username/password there, so a password in the file is never needed.
std::optional<ProxyUrl> readConfigUrl(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = readNonEmptyString(ctx, node, path);
  if (!text) {
    return std::nullopt;
  }
  auto url = parseProxyUrl(*text);
  if (!url) {
    ctx.error(node, path, url.error().context);
    return std::nullopt;
  }
  if (!url->username.empty() || url->password) {
    ctx.error(node, path,
              "credentials do not go in the proxy URL: use proxy.username and "
              "proxy.password: {env: NAME} or {file: PATH}");
    return std::nullopt;
  }
  return std::move(*url);
}

// proxy: {url: ..., username: ..., password: {env: X} | {file: P}}
std::optional<Proxy> readProxyMap(Context& ctx, const YAML::Node& node, Path path) {
  const MapReader map(ctx, node, path, kProxyKeys);
  if (!map.isMapping()) {
    return std::nullopt;
  }
  std::optional<ProxyUrl> url;
  if (const YAML::Node url_node = map.require("url"); url_node.IsDefined()) {
    url = readConfigUrl(ctx, url_node, map.pathOf("url"));
  }
  Proxy proxy;
  readField(map, "username", proxy.username, readNonEmptyString);
  readField(map, "password", proxy.password, readSecret);
  const bool has_user = map.find("username").IsDefined();
  const bool has_password = map.find("password").IsDefined();
  if (has_user != has_password) {
    ctx.error(node, path, "proxy basic auth needs both username and password");
    return std::nullopt;
  }
  if (!url) {
    return std::nullopt;
  }
  proxy.host = url->host;
  proxy.port = url->port;
  proxy.source = path;
  return proxy;
}

void readConfigProxy(Context& ctx, const YAML::Node& node, Path path, Endpoint& out) {
  if (node.IsScalar() && node.Scalar() == "none") {
    out.direct_because = "proxy: none";
    return;
  }
  if (node.IsMap()) {
    out.proxy = readProxyMap(ctx, node, path);
    return;
  }
  if (const auto url = readConfigUrl(ctx, node, path)) {
    out.proxy = Proxy{url->host, url->port, {}, std::nullopt, path};
  }
}

// The environment's proxy for this endpoint, curl's way. A variable that
// names a proxy dropd cannot use stops the load rather than being ignored:
// an endpoint that needs the proxy would otherwise fail in a way that says
// nothing about it.
void readEnvProxy(Context& ctx, const MapReader& endpoint, Endpoint& out) {
  const auto var = proxyVarFor(out.url.scheme, getEnv);
  if (!var) {
    out.direct_because = "no proxy variable set";
    return;
  }
  if (const auto no_proxy = noProxyVar(getEnv);
      no_proxy && noProxyMatches(no_proxy->value, out.url.host, out.url.port)) {
    out.direct_because = no_proxy->name + " matches " + out.url.host;
    return;
  }
  auto url = parseProxyUrl(var->value);
  if (!url) {
    ctx.error(endpoint.node(), endpoint.pathOf("proxy"),
              fmt::format("environment variable {}: {}; set proxy: none to go direct", var->name,
                          url.error().context));
    return;
  }
  Proxy proxy{url->host, url->port, url->username, std::nullopt, "env " + var->name};
  if (url->password) {
    proxy.password.emplace(std::move(*url->password), "env " + var->name);
  }
  out.proxy = std::move(proxy);
}

}  // namespace

void readEndpointProxy(Context& ctx, const MapReader& endpoint, Endpoint& out) {
  if (const YAML::Node node = endpoint.find("proxy"); node.IsDefined()) {
    readConfigProxy(ctx, node, endpoint.pathOf("proxy"), out);
    return;
  }
  if (!out.url.host.empty()) {
    readEnvProxy(ctx, endpoint, out);
  }
}

}  // namespace dropd::config::detail
