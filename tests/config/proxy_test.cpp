#include "dropd/config/proxy.hpp"

#include <cstdlib>
#include <map>

#include <catch2/catch.hpp>

#include "dropd/config/load.hpp"
#include "dropd/config/secret_mask.hpp"

namespace {

using namespace dropd::config;
using Catch::Matchers::Contains;

EnvLookup lookupIn(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
}

std::string endpointWith(const std::string& url, const std::string& extra) {
  return "endpoints:\n"
         "  main:\n"
         "    url: " +
         url + "\n" + extra +
         "pipelines:\n"
         "  - watch: [/srv/in]\n"
         "    endpoint: main\n"
         "    output: { dir: /srv/out }\n";
}

std::string loadError(const std::string& yaml) {
  try {
    (void)loadConfigString(yaml, "proxy.yaml", "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("loaded without error:\n" << yaml);
  return {};
}

// Sets the proxy variables for one test, and clears them all after.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    clear();
    for (const auto& [name, value] : vars) {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() { clear(); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  static void clear() {
    for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                             "ALL_PROXY", "no_proxy", "NO_PROXY", "DROPD_TEST_PROXY_PW"}) {
      ::unsetenv(name);
    }
  }
};

}  // namespace

TEST_CASE("parseProxyUrl takes http proxies and refuses the rest", "[config][proxy]") {
  SECTION("host, port and credentials") {
    const auto url = parseProxyUrl("http://us%40er:p%3Ass@proxy.corp:3128/");
    REQUIRE(url);
    CHECK(url->host == "proxy.corp");
    CHECK(url->port == 3128);
    CHECK(url->username == "us@er");
    CHECK(url->password == "p:ss");
  }
  SECTION("no scheme means http, no port means 1080 (curl's defaults)") {
    const auto url = parseProxyUrl("proxy.corp");
    REQUIRE(url);
    CHECK(url->port == 1080);
    CHECK(url->username.empty());
    CHECK_FALSE(url->password.has_value());
    CHECK(parseProxyUrl("HTTP://[::1]:8888")->host == "::1");
  }
  SECTION("https and socks proxies are refused, saying so") {
    CHECK_THAT(parseProxyUrl("https://proxy:443").error().context, Contains("not built"));
    CHECK(parseProxyUrl("socks5://proxy:1080").error().context ==
          "socks5:// (SOCKS) proxies are not built; use an http:// proxy");
    CHECK_THAT(parseProxyUrl("SOCKS5H://proxy").error().context, Contains("socks5h://"));
    CHECK_THAT(parseProxyUrl("ftp://proxy").error().context, Contains("http://"));
  }
  SECTION("malformed URLs never echo their credentials") {
    for (const char* bad :
         {"http://user:hunter2@", "http://user:hunter2@proxy:0", "http://user:hunter2@proxy:99999",
          "http://user:hunter2@proxy/path", "http://user:hunter2@[::1",
          "http://user:hunter2@pro xy", "http://user:hunter2@proxy:"}) {
      CAPTURE(bad);
      const auto url = parseProxyUrl(bad);
      REQUIRE_FALSE(url);
      CHECK(url.error().code == dropd::ErrorCode::kInvalid);
      CHECK_THAT(url.error().context, !Contains("hunter2"));
    }
  }
}

TEST_CASE("proxyVarFor picks the variable as curl does", "[config][proxy]") {
  SECTION("https: lower case first, then upper case, then ALL_PROXY") {
    CHECK(proxyVarFor("https", lookupIn({{"https_proxy", "a"}, {"HTTPS_PROXY", "b"}}))->name ==
          "https_proxy");
    CHECK(proxyVarFor("https", lookupIn({{"HTTPS_PROXY", "b"}, {"ALL_PROXY", "c"}}))->name ==
          "HTTPS_PROXY");
    CHECK(proxyVarFor("https", lookupIn({{"http_proxy", "b"}, {"ALL_PROXY", "c"}}))->name ==
          "ALL_PROXY");
  }
  SECTION("http: http_proxy only, never HTTP_PROXY (httpoxy)") {
    CHECK(proxyVarFor("http", lookupIn({{"http_proxy", "a"}}))->value == "a");
    CHECK_FALSE(proxyVarFor("http", lookupIn({{"HTTP_PROXY", "a"}, {"HTTPS_PROXY", "b"}})));
    CHECK(proxyVarFor("http", lookupIn({{"HTTP_PROXY", "a"}, {"all_proxy", "c"}}))->name ==
          "all_proxy");
  }
  SECTION("an empty variable counts as unset") {
    CHECK(proxyVarFor("https", lookupIn({{"https_proxy", ""}, {"HTTPS_PROXY", "b"}}))->name ==
          "HTTPS_PROXY");
    CHECK_FALSE(noProxyVar(lookupIn({{"no_proxy", ""}})));
    CHECK(noProxyVar(lookupIn({{"no_proxy", ""}, {"NO_PROXY", "x"}}))->name == "NO_PROXY");
  }
}

TEST_CASE("Proxy::basicCredentials is base64 of user:password", "[config][proxy]") {
  Proxy proxy;
  CHECK(proxy.basicCredentials().empty());
  proxy.username = "user";
  CHECK(proxy.basicCredentials() == "dXNlcjo=");
  proxy.password.emplace("pass", "test");
  CHECK(proxy.basicCredentials() == "dXNlcjpwYXNz");
  proxy.password.emplace("pa", "test");
  CHECK(proxy.basicCredentials() == "dXNlcjpwYQ==");
  proxy.host = "::1";
  proxy.port = 8888;
  CHECK(proxy.display() == "http://[::1]:8888");
}

TEST_CASE("endpoints.*.proxy sets or refuses a proxy", "[config][proxy]") {
  const ScopedEnv env(
      {{"HTTPS_PROXY", "http://env-proxy:3128"}, {"DROPD_TEST_PROXY_PW", "s3cr3t"}});
  SECTION("a URL") {
    const Config c = loadConfigString(
        endpointWith("https://api.example.com/v1", "    proxy: http://127.0.0.1:8888\n"), "p.yaml");
    REQUIRE(c.endpoints[0].proxy);
    CHECK(c.endpoints[0].proxy->display() == "http://127.0.0.1:8888");
    CHECK(c.endpoints[0].proxy->source == "endpoints.main.proxy");
  }
  SECTION("none, whatever the environment says") {
    const Config c =
        loadConfigString(endpointWith("https://api.example.com/v1", "    proxy: none\n"), "p.yaml");
    CHECK_FALSE(c.endpoints[0].proxy);
    CHECK(c.endpoints[0].direct_because == "proxy: none");
  }
  SECTION("a mapping with basic auth, masked") {
    const Config c = loadConfigString(
        endpointWith("https://api.example.com/v1",
                     "    proxy: { url: 'http://p:1', username: bob, password: { env: "
                     "DROPD_TEST_PROXY_PW } }\n"),
        "p.yaml");
    REQUIRE(c.endpoints[0].proxy);
    CHECK(c.endpoints[0].proxy->username == "bob");
    CHECK(c.endpoints[0].proxy->password->reveal() == "s3cr3t");
    SecretMask mask;
    mask.addFrom(c);
    CHECK(mask.apply("pw=s3cr3t auth=Basic Ym9iOnMzY3IzdA==") ==
          "pw=[redacted endpoints.main.proxy.password] auth=Basic "
          "[redacted endpoints.main.proxy.password]");
  }
  SECTION("what is refused") {
    const std::string yaml = "    proxy: https://p:443\n";
    CHECK_THAT(loadError(endpointWith("https://a.b/v1", yaml)), Contains("not built"));
    CHECK_THAT(loadError(endpointWith("https://a.b/v1", "    proxy: http://u:hunter2@p:1\n")),
               Contains("proxy.username"));
    CHECK_THAT(loadError(endpointWith("https://a.b/v1", "    proxy: http://u:hunter2@p:1\n")),
               !Contains("hunter2"));
    CHECK_THAT(loadError(endpointWith("https://a.b/v1",
                                      "    proxy: { url: 'http://p:1', "
                                      "username: bob }\n")),
               Contains("both username and password"));
    CHECK_THAT(loadError(endpointWith("https://a.b/v1", "    proxy: { urll: 'http://p:1' }\n")),
               Contains("urll"));
  }
}

TEST_CASE("An endpoint without proxy: takes the environment's at load", "[config][proxy]") {
  SECTION("HTTPS_PROXY with credentials, for an https endpoint") {
    const ScopedEnv env({{"HTTPS_PROXY", "http://al:pw%21@10.0.0.1:3128"}});
    const Config c = loadConfigString(endpointWith("https://api.example.com/v1", ""), "p.yaml");
    REQUIRE(c.endpoints[0].proxy);
    CHECK(c.endpoints[0].proxy->display() == "http://10.0.0.1:3128");
    CHECK(c.endpoints[0].proxy->source == "env HTTPS_PROXY");
    CHECK(c.endpoints[0].proxy->username == "al");
    CHECK(c.endpoints[0].proxy->password->reveal() == "pw!");
    SecretMask mask;
    mask.addFrom(c);
    CHECK(mask.finds("pw!"));
  }
  SECTION("HTTP_PROXY is not read for an http endpoint, http_proxy is") {
    {
      const ScopedEnv env({{"HTTP_PROXY", "http://evil:1"}});
      const Config c = loadConfigString(endpointWith("http://127.0.0.1:8089/v1", ""), "p.yaml");
      CHECK_FALSE(c.endpoints[0].proxy);
      CHECK(c.endpoints[0].direct_because == "no proxy variable set");
    }
    const ScopedEnv env({{"http_proxy", "127.0.0.1:3128"}});
    const Config c = loadConfigString(endpointWith("http://127.0.0.1:8089/v1", ""), "p.yaml");
    REQUIRE(c.endpoints[0].proxy);
    CHECK(c.endpoints[0].proxy->source == "env http_proxy");
  }
  SECTION("NO_PROXY sends the endpoint direct") {
    const ScopedEnv env({{"http_proxy", "http://p:1"}, {"NO_PROXY", "localhost,127.0.0.0/8"}});
    const Config c = loadConfigString(endpointWith("http://127.0.0.1:8089/v1", ""), "p.yaml");
    CHECK_FALSE(c.endpoints[0].proxy);
    CHECK(c.endpoints[0].direct_because == "NO_PROXY matches 127.0.0.1");
  }
  SECTION("a proxy variable dropd cannot use stops the load") {
    const ScopedEnv env({{"https_proxy", "socks5://p:1080"}});
    const std::string error = loadError(endpointWith("https://api.example.com/v1", ""));
    CHECK_THAT(error, Contains("environment variable https_proxy"));
    CHECK_THAT(error, Contains("(SOCKS) proxies are not built"));
    CHECK_THAT(error, Contains("proxy: none"));
    SECTION("and an https:// one too, from the upper-case name") {
      const ScopedEnv upper({{"https_proxy", ""}, {"HTTPS_PROXY", "https://p:443"}});
      const std::string upper_error = loadError(endpointWith("https://api.example.com/v1", ""));
      CHECK_THAT(upper_error, Contains("environment variable HTTPS_PROXY"));
      CHECK_THAT(upper_error, Contains("https:// proxies (TLS to the proxy) are not built"));
    }
  }
}
