// HttpRequest::on_body: a 2xx body handed over as it is read, not kept;
// ClientOptions::read_idle_timeout: a response that stops coming.

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/net/http_client.hpp"
#include "dropd/uv/timer.hpp"

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
}

TEST_CASE("HttpClient holds every response to read_idle_timeout once it started", "[net]") {
  BodyFixture f({.read_idle_timeout = 30ms});
  Outcome outcome;
  SECTION("a Content-Length body that stalls midway fails kTimeout") {
    f.server.answer = [](const net::ServerRequest&, Responder& r) {
      r.sendRaw({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only ten b"},
                Responder::After::kKeepOpen);
    };
    f.client->send(post("x"), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    f.loop.runUntil([&] { return outcome.has_value(); });
    REQUIRE_FALSE(*outcome);
    CHECK(outcome->error().code == ErrorCode::kTimeout);
    CHECK(outcome->error().context.find("no byte for 30 ms") != std::string::npos);
    CHECK(f.client->idleConnections() == 0);  // a cut response's connection is not reused
  }
  SECTION("a head that stalls after its first line fails the same way") {
    f.server.answer = [](const net::ServerRequest&, Responder& r) {
      r.sendRaw({"HTTP/1.1 200 OK\r\n"}, Responder::After::kKeepOpen);
    };
    f.client->send(post("x"), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    f.loop.runUntil([&] { return outcome.has_value(); });
    REQUIRE_FALSE(*outcome);
    CHECK(outcome->error().code == ErrorCode::kTimeout);
  }
  SECTION("a plain answer that starts late is waited for (request_timeout's job)") {
    auto timer = uv::Timer::create(f.loop.get());
    REQUIRE(timer);
    f.client->send(post("y"), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    f.loop.runUntil([&] { return f.server.requests == 1; });
    REQUIRE(timer->start(
        90ms, [&] { f.server.received.front().responder.send(200, {}, "late but whole"); }));
    f.loop.runUntil([&] { return outcome.has_value(); });
    REQUIRE(*outcome);
    CHECK((*outcome)->body == "late but whole");
  }
  SECTION("the deadline of one response does not outlive it") {
    f.server.answer = test::echo;
    f.client->send(post("a"), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    f.loop.runUntil([&] { return outcome.has_value(); });
    REQUIRE(*outcome);
    // The pooled connection sits idle for longer than read_idle_timeout.
    auto timer = uv::Timer::create(f.loop.get());
    REQUIRE(timer);
    bool waited = false;
    REQUIRE(timer->start(90ms, [&] { waited = true; }));
    f.loop.runUntil([&] { return waited; });
    CHECK(f.client->idleConnections() == 1);
    outcome.reset();
    f.client->send(post("b"), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    f.loop.runUntil([&] { return outcome.has_value(); });
    REQUIRE(*outcome);
    CHECK((*outcome)->body == "b");
  }
}
