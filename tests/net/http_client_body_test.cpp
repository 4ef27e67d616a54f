// HttpRequest::on_body: a 2xx body handed over as it is read, not kept.

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/net/http_client.hpp"

#include "support/loop_fixture.hpp"
#include "test_server.hpp"

using namespace dropd;
using namespace std::chrono_literals;
using dropd::test::post;
using net::Responder;

namespace {

using Outcome = std::optional<Result<net::HttpResponse>>;

struct BodyFixture {
  explicit BodyFixture(net::ClientOptions options = {}) {
    auto created = net::HttpClient::create(loop.get(), server.url(), options);
    REQUIRE(created);
    client = std::move(*created);
  }

  Result<net::HttpResponse> send() {
    net::HttpRequest request = post("x");
    request.on_body = [this](std::string_view bytes) { pieces.emplace_back(bytes); };
    Outcome outcome;
    client->send(std::move(request), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    loop.runUntil([&] { return outcome.has_value(); });
    return std::move(*outcome);
  }

  [[nodiscard]] std::string joined() const {
    std::string out;
    for (const std::string& p : pieces) {
      out += p;
    }
    return out;
  }

  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  std::unique_ptr<net::HttpClient> client;
  std::vector<std::string> pieces;
};

}  // namespace

TEST_CASE("HttpClient hands a 2xx body to on_body and keeps none of it", "[net]") {
  SECTION("a chunked body, framing undone, in pieces as written") {
    BodyFixture f;
    f.server.answer = [](const net::ServerRequest&, Responder& r) {
      r.sendRaw({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n",
                 "6\r\n world\r\n", "0\r\n\r\n"},
                Responder::After::kKeepOpen);
    };
    const auto r = f.send();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());
    CHECK(f.joined() == "hello world");
    CHECK(f.client->idleConnections() == 1);  // still reusable
  }
  SECTION("a read-until-close body, its end included") {
    BodyFixture f;
    f.server.answer = [](const net::ServerRequest&, Responder& r) {
      r.sendRaw({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "abc", "def"},
                Responder::After::kClose);
    };
    const auto r = f.send();
    REQUIRE(r);
    CHECK(f.joined() == "abcdef");
  }
  SECTION("a non-2xx body is kept whole and on_body never runs") {
    BodyFixture f;
    f.server.answer = [](const net::ServerRequest&, Responder& r) {
      r.send(503, {}, R"({"error":"busy"})");
    };
    const auto r = f.send();
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(r->body == R"({"error":"busy"})");
    CHECK(f.pieces.empty());
  }
  SECTION("max_response_bytes counts every byte handed over") {
    BodyFixture f({.max_response_bytes = 8});
    f.server.answer = [](const net::ServerRequest&, Responder& r) {
      r.sendRaw({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n",
                 "6\r\n world\r\n", "0\r\n\r\n"},
                Responder::After::kKeepOpen);
    };
    const auto r = f.send();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kTooLarge);
  }
}

TEST_CASE("HttpClient fails an on_body request whose reads stop for read_idle_timeout", "[net]") {
  BodyFixture f({.read_idle_timeout = 30ms});
  f.server.answer = [](const net::ServerRequest&, Responder& r) {
    r.sendRaw({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n"},
              Responder::After::kKeepOpen);
  };
  const auto r = f.send();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(r.error().context.find("no byte for 30 ms") != std::string::npos);
  CHECK(f.joined() == "hello");
  SECTION("requests without on_body are not held to it") {
    f.server.answer = [](const net::ServerRequest&, Responder& responder) {
      responder.send(200, {}, "late but whole");
    };
    Outcome outcome;
    f.client->send(post("y"), [&](Result<net::HttpResponse> res) { outcome = std::move(res); });
    f.loop.runUntil([&] { return outcome.has_value(); });
    REQUIRE(*outcome);
    CHECK((*outcome)->body == "late but whole");
  }
}
