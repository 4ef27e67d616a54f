// HttpClient through an HTTP proxy (test_proxy.hpp) on loopback: CONNECT
// tunnels for https, the absolute form for http, 407 and other refusals.

#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/net/http_client.hpp"

#include "support/loop_fixture.hpp"
#include "test_certs.hpp"
#include "test_proxy.hpp"
#include "test_server.hpp"

using namespace dropd;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using dropd::test::post;
using net::HttpClient;

namespace {

using Outcome = std::optional<Result<net::HttpResponse>>;

constexpr const char* kAuth = "Basic dXNlcjpwYXNz";  // user:pass

net::ClientOptions viaProxy(int port, std::string authorization = {}) {
  net::ClientOptions options;
  options.tls.ca_file = test::testCerts().ca;
  options.proxy.host = "127.0.0.1";
  options.proxy.port = port;
  options.proxy.authorization = std::move(authorization);
  return options;
}

net::ServerOptions servingTls() {
  net::ServerOptions options;
  options.tls_cert_file = test::testCerts().cert;
  options.tls_key_file = test::testCerts().key;
  return options;
}

std::unique_ptr<HttpClient> makeClient(uv_loop_t& loop, const net::Url& url,
                                       const net::ClientOptions& options) {
  auto client = HttpClient::create(loop, url, options);
  REQUIRE(client);
  return std::move(*client);
}

Result<net::HttpResponse> roundTrip(test::LoopFixture& loop, HttpClient& client,
                                    net::HttpRequest request) {
  Outcome outcome;
  client.send(std::move(request), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
  loop.runUntil([&] { return outcome.has_value(); });
  return std::move(*outcome);
}

}  // namespace

TEST_CASE("HttpClient tunnels https through a proxy and reuses the tunnel", "[net][proxy]") {
  test::LoopFixture loop;
  test::TestProxy proxy{loop.get()};
  test::TestServer server{loop.get(), servingTls()};
  server.answer = test::echo;
  const std::string host = GENERATE(as<std::string>{}, "127.0.0.1", "localhost");
  const net::Url url = server.url("/", host);
  std::string auth;
  SECTION("without credentials") {}
  SECTION("with credentials") {
    auth = kAuth;
    proxy.required_auth = kAuth;
  }
  auto client = makeClient(loop.get(), url, viaProxy(proxy.port(), auth));
  for (int i = 0; i < 3; ++i) {
    auto response = roundTrip(loop, *client, post("req" + std::to_string(i)));
    INFO((response ? std::string() : response.error().message()));
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == "req" + std::to_string(i));
  }
  CHECK(proxy.accepted == 1);  // one tunnel, kept alive, for three requests
  CHECK(server.server().accepted() == 1);
  CHECK(client->connectionsOpened() == 1);
  REQUIRE(proxy.heads.size() == 1);
  const std::string& head = proxy.heads.front();
  // "localhost" goes into CONNECT as written; the proxy resolves it.
  const std::string authority = host + ":" + std::to_string(server.server().port());
  CHECK_THAT(head, StartsWith("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority));
  CHECK((head.find("Proxy-Authorization") != std::string::npos) == !auth.empty());
  // Inside the tunnel the request is the endpoint's: origin form, no proxy credentials.
  CHECK(server.received.front().request.target == "/echo");
  CHECK(server.received.front().request.header("proxy-authorization") == nullptr);
}

TEST_CASE("HttpClient sends http requests to a proxy in absolute form", "[net][proxy]") {
  test::LoopFixture loop;
  test::TestProxy proxy{loop.get()};
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  proxy.required_auth = kAuth;
  auto client = makeClient(loop.get(), server.url(), viaProxy(proxy.port(), kAuth));
  for (int i = 0; i < 2; ++i) {
    auto response = roundTrip(loop, *client, post("plain" + std::to_string(i)));
    REQUIRE(response);
    CHECK(response->body == "plain" + std::to_string(i));
  }
  CHECK(proxy.accepted == 1);
  REQUIRE(proxy.heads.size() == 1);
  const std::string port = std::to_string(server.server().port());
  CHECK_THAT(proxy.heads.front(), StartsWith("POST http://127.0.0.1:" + port +
                                             "/echo HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"));
  CHECK_THAT(proxy.heads.front(), Contains(std::string("Proxy-Authorization: ") + kAuth));
}

TEST_CASE("HttpClient reports a proxy's 407 as kRejected", "[net][proxy]") {
  test::LoopFixture loop;
  test::TestProxy proxy{loop.get()};
  proxy.required_auth = kAuth;
  const bool tls = GENERATE(true, false);
  std::optional<test::TestServer> server;
  if (tls) {
    server.emplace(loop.get(), servingTls());
  } else {
    server.emplace(loop.get());
  }
  server->answer = test::echo;
  const std::string sent = GENERATE(as<std::string>{}, "", "Basic d3Jvbmc6d3Jvbmc=");
  auto client = makeClient(loop.get(), server->url(), viaProxy(proxy.port(), sent));
  auto response = roundTrip(loop, *client, post("x"));
  REQUIRE_FALSE(response);
  CHECK(response.error().code == ErrorCode::kRejected);
  CHECK(response.error().message() ==
        "proxy 127.0.0.1:" + std::to_string(proxy.port()) + ": proxy auth required (407)");
  CHECK(server->requests == 0);
  CHECK_THAT(response.error().message(), !Contains("d3Jvbmc"));
}

TEST_CASE("HttpClient takes a proxy's 401 to CONNECT as a refusal too", "[net][proxy]") {
  test::LoopFixture loop;
  test::TestProxy proxy{loop.get()};
  proxy.connect_status = 401;
  test::TestServer server{loop.get(), servingTls()};
  auto client = makeClient(loop.get(), server.url(), viaProxy(proxy.port(), kAuth));
  auto response = roundTrip(loop, *client, post("x"));
  REQUIRE_FALSE(response);
  CHECK(response.error().code == ErrorCode::kRejected);
  CHECK(response.error().message() ==
        "proxy 127.0.0.1:" + std::to_string(proxy.port()) + ": proxy auth refused (401)");
}

TEST_CASE("HttpClient names the proxy when it fails", "[net][proxy]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), servingTls()};
  SECTION("a proxy that refuses the CONNECT") {
    test::TestProxy proxy{loop.get()};
    proxy.connect_status = 502;
    auto client = makeClient(loop.get(), server.url(), viaProxy(proxy.port()));
    auto response = roundTrip(loop, *client, post("x"));
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::kProtocol);
    CHECK(response.error().message() == "CONNECT " + server.url().authority() +
                                            " via proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                                            ": proxy answered 502");
  }
  SECTION("a proxy that is not there") {
    int port = 0;
    {
      test::TestProxy gone{loop.get()};
      port = gone.port();
    }
    auto client = makeClient(loop.get(), server.url(), viaProxy(port));
    auto response = roundTrip(loop, *client, post("x"));
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::kSystem);
    CHECK(response.error().context == "connect(proxy 127.0.0.1:" + std::to_string(port) + ")");
  }
  CHECK(server.requests == 0);
}
