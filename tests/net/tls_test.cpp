// TLS end to end: HttpClient against an https HttpServer on loopback, with
// a throwaway CA (test_certs.hpp).

#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/net/http_client.hpp"
#include "dropd/net/http_server.hpp"

#include "support/loop_fixture.hpp"
#include "test_certs.hpp"
#include "test_server.hpp"

using namespace dropd;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using dropd::test::post;
using net::HttpClient;
using net::Responder;

namespace {

using Outcome = std::optional<Result<net::HttpResponse>>;

net::ServerOptions serving(const std::string& cert, const std::string& key) {
  net::ServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  return options;
}

net::ServerOptions servingLocalhost() {
  return serving(test::testCerts().cert, test::testCerts().key);
}

net::ClientOptions trusting(const std::string& ca_file, bool verify = true) {
  net::ClientOptions options;
  options.tls.ca_file = ca_file;
  options.tls.verify = verify;
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

TEST_CASE("HttpClient talks TLS to a server whose CA it was given", "[net][tls]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), servingLocalhost()};
  server.answer = test::echo;
  const std::string host = GENERATE(as<std::string>{}, "127.0.0.1", "localhost");
  auto client = makeClient(loop.get(), server.url("/", host), trusting(test::testCerts().ca));
  for (int i = 0; i < 5; ++i) {
    auto response = roundTrip(loop, *client, post("req" + std::to_string(i)));
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == "req" + std::to_string(i));
  }
  CHECK(server.server().accepted() == 1);  // keep-alive: one handshake for five requests
  CHECK(client->connectionsOpened() == 1);
  CHECK(*server.received.front().request.header("host") ==
        host + ":" + std::to_string(server.server().port()));
}

TEST_CASE("HttpClient refuses a certificate it cannot verify", "[net][tls]") {
  test::LoopFixture loop;
  const auto& certs = test::testCerts();
  std::string cert = certs.cert;
  std::string key = certs.key;
  std::string host = "127.0.0.1";
  std::string ca_file;  // the system's CAs, which never heard of our test CA
  std::string reason;
  SECTION("a CA that is not trusted") { reason = "unable to get local issuer certificate"; }
  SECTION("a self-signed certificate") {
    cert = certs.self_cert;
    key = certs.self_key;
    reason = "self-signed certificate";
  }
  SECTION("a trusted certificate for another host name") {
    cert = certs.wrong_cert;
    key = certs.wrong_key;
    host = "localhost";
    ca_file = certs.ca;
    reason = "hostname mismatch";
  }
  SECTION("a trusted certificate for another IP address") {
    cert = certs.wrong_cert;
    key = certs.wrong_key;
    ca_file = certs.ca;
    reason = "IP address mismatch";
  }
  test::TestServer server{loop.get(), serving(cert, key)};
  server.answer = test::echo;
  const net::Url url = server.url("/", host);
  auto client = makeClient(loop.get(), url, trusting(ca_file));
  auto response = roundTrip(loop, *client, post("secret"));
  REQUIRE_FALSE(response);
  CHECK(response.error().code == ErrorCode::kUntrusted);
  CHECK(response.error().message() ==
        "TLS handshake with " + url.authority() + ": certificate verify failed: " + reason);
  CHECK(server.requests == 0);  // not a byte of the request left the client
  CHECK(client->connections() == 0);
  loop.runUntil([&] { return server.server().connections() == 0; });
}

TEST_CASE("HttpClient with verification off takes any certificate", "[net][tls]") {
  test::LoopFixture loop;
  const auto& certs = test::testCerts();
  const bool self_signed = GENERATE(true, false);
  test::TestServer server{loop.get(), self_signed ? serving(certs.self_cert, certs.self_key)
                                                  : serving(certs.wrong_cert, certs.wrong_key)};
  server.answer = test::echo;
  auto client = makeClient(loop.get(), server.url(), trusting("", false));
  auto response = roundTrip(loop, *client, post("hello"));
  REQUIRE(response);
  CHECK(response->body == "hello");
}

TEST_CASE("HttpClient moves an 8 MiB body both ways over TLS", "[net][tls]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), servingLocalhost()};
  server.answer = test::echo;
  auto client = makeClient(loop.get(), server.url(), trusting(test::testCerts().ca));
  std::string big(8u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + i * 7 % 26);
  }
  for (int round = 0; round < 2; ++round) {  // the second on the pooled connection
    auto response = roundTrip(loop, *client, post(big));
    REQUIRE(response);
    CHECK(response->body.size() == big.size());
    CHECK(response->body == big);
  }
  CHECK(server.server().accepted() == 1);
}

TEST_CASE("HttpClient over TLS fails a response cut off mid-body", "[net][tls]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), servingLocalhost()};
  const auto after = GENERATE(Responder::After::kReset, Responder::After::kClose);
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only part"}, after);
  };
  auto client = makeClient(loop.get(), server.url(), trusting(test::testCerts().ca));
  auto response = roundTrip(loop, *client, post("x"));
  REQUIRE_FALSE(response);
  CHECK(response.error().code == ErrorCode::kSystem);
  CHECK((response.error().sys == UV_ECONNRESET || response.error().sys == UV_EOF));
  CHECK_THAT(response.error().context, Contains("closed inside the response"));
  CHECK(server.requests == 1);
}

TEST_CASE("HttpClient over TLS takes a body ended by close_notify", "[net][tls]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), servingLocalhost()};
  // No Content-Length: the end of the connection ends the body. The server
  // closes gracefully, so its close_notify proves nothing was cut off.
  server.answer = [](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "all of it"},
                      Responder::After::kClose);
  };
  auto client = makeClient(loop.get(), server.url(), trusting(test::testCerts().ca));
  auto response = roundTrip(loop, *client, post("x"));
  REQUIRE(response);
  CHECK(response->body == "all of it");
  CHECK(client->connections() == 0);
}

TEST_CASE("HttpClient over TLS retries the keep-alive race on a fresh connection", "[net][tls]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), servingLocalhost()};
  server.answer = [](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, Responder::After::kClose);
  };
  auto client = makeClient(loop.get(), server.url(), trusting(test::testCerts().ca));
  Outcome first;
  Outcome second;
  client->send(post("a"), [&](Result<net::HttpResponse> r) {
    first = std::move(r);
    client->send(post("b"), [&](Result<net::HttpResponse> r2) { second = std::move(r2); });
  });
  loop.runUntil([&] { return second.has_value(); });
  REQUIRE(*first);
  REQUIRE(*second);
  CHECK((*second)->body == "ok");
  CHECK(server.server().accepted() == 2);
}

TEST_CASE("HttpClient over TLS reports a server that does not speak TLS", "[net][tls]") {
  test::LoopFixture loop;
  test::TestServer plain{loop.get()};
  plain.answer = test::echo;
  const auto url =
      *net::Url::parse("https://127.0.0.1:" + std::to_string(plain.server().port()) + "/");
  auto client = makeClient(loop.get(), url, trusting(test::testCerts().ca));
  auto response = roundTrip(loop, *client, post("x"));
  REQUIRE_FALSE(response);
  CHECK(response.error().code == ErrorCode::kProtocol);
  CHECK_THAT(response.error().message(), StartsWith("TLS handshake with " + url.authority()));
  loop.runUntil([&] { return plain.server().connections() == 0; });
}

TEST_CASE("TLS setup errors name the file", "[net][tls]") {
  test::LoopFixture loop;
  const std::string missing = "/nonexistent/dropd-test.pem";
  SECTION("HttpClient::create with an unreadable ca_file") {
    auto client =
        HttpClient::create(loop.get(), *net::Url::parse("https://127.0.0.1:1/"), trusting(missing));
    REQUIRE_FALSE(client);
    CHECK(client.error().code == ErrorCode::kInvalid);
    CHECK_THAT(client.error().message(), Contains(missing));
  }
  SECTION("an http URL ignores the TLS options") {
    CHECK(
        HttpClient::create(loop.get(), *net::Url::parse("http://127.0.0.1:1/"), trusting(missing)));
  }
  SECTION("HttpServer::listen with a missing certificate") {
    auto server = net::HttpServer::listen(loop.get(), "127.0.0.1", 0, {},
                                          serving(missing, test::testCerts().key));
    REQUIRE_FALSE(server);
    CHECK(server.error().code == ErrorCode::kInvalid);
    CHECK_THAT(server.error().message(), Contains(missing));
  }
  SECTION("HttpServer::listen with a key of another certificate") {
    auto server =
        net::HttpServer::listen(loop.get(), "127.0.0.1", 0, {},
                                serving(test::testCerts().cert, test::testCerts().self_key));
    REQUIRE_FALSE(server);
    CHECK(server.error().code == ErrorCode::kInvalid);
  }
}
