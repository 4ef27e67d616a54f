#include "dropd/net/http_server.hpp"

#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/uv/tcp_listener.hpp"
#include "dropd/uv/tcp_stream.hpp"

#include "support/loop_fixture.hpp"
#include "test_server.hpp"

using namespace dropd;
using namespace std::chrono_literals;
using Outcome = std::optional<Result<net::HttpResponse>>;

namespace {

// Connects a raw stream to `port`, writes `wire` and collects what comes back
// until the server closes.
struct RawClient {
  RawClient(uv_loop_t& loop, int port, std::string wire) : stream(*uv::TcpStream::create(loop)) {
    sockaddr_storage addr{};
    REQUIRE(uv::parseIpAddress("127.0.0.1", port, addr));
    REQUIRE(stream->connect(reinterpret_cast<const sockaddr&>(addr),
                            [this, wire = std::move(wire)](Status connected) {
                              REQUIRE(connected);
                              REQUIRE(stream->startRead([this](Result<std::string_view> data) {
                                if (!data) {
                                  stream.reset();
                                  return;
                                }
                                got += *data;
                              }));
                              REQUIRE(stream->write(wire, nullptr, nullptr));
                            }));
  }
  std::optional<uv::TcpStream> stream;
  std::string got;
};

}  // namespace

TEST_CASE("HttpServer answers pipelined requests in order", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  RawClient client{loop.get(), server.server().port(),
                   "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\none"
                   "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\ntwo"
                   "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"};
  loop.runUntil([&] { return !client.stream.has_value(); });
  const auto one = client.got.find("one");
  const auto two = client.got.find("two");
  REQUIRE(one != std::string::npos);
  REQUIRE(two != std::string::npos);
  CHECK(one < two);
  CHECK(server.requests == 3);
  CHECK(client.got.find("Connection: close") != std::string::npos);
}

TEST_CASE("HttpServer refuses bad requests and closes", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), {.max_body_bytes = 10, .max_header_bytes = 1024}};
  server.answer = test::echo;
  SECTION("body over the cap: 413") {
    RawClient client{loop.get(), server.server().port(),
                     "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"};
    loop.runUntil([&] { return !client.stream.has_value(); });
    CHECK(client.got.rfind("HTTP/1.1 413 ", 0) == 0);
  }
  SECTION("garbage: 400") {
    RawClient client{loop.get(), server.server().port(), "HELLO\r\n\r\n"};
    loop.runUntil([&] { return !client.stream.has_value(); });
    CHECK(client.got.rfind("HTTP/1.1 400 ", 0) == 0);
  }
  CHECK(server.requests == 0);
  loop.runUntil([&] { return server.server().connections() == 0; });
}

TEST_CASE("HttpServer close() lets the request in progress finish", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  auto client = net::HttpClient::create(loop.get(), server.url(), {});
  REQUIRE(client);
  Outcome outcome;
  (*client)->send(test::post("x"), [&](auto r) { outcome = std::move(r); });
  loop.runUntil([&] { return server.received.size() == 1; });
  server.server().close();
  CHECK(server.server().connections() == 1);
  server.received.front().responder.send(200, {}, "late");
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE(*outcome);
  CHECK((*outcome)->body == "late");
  CHECK(*(*outcome)->header("connection") == "close");
  loop.runUntil([&] { return server.server().connections() == 0; });
}

TEST_CASE("Responder is a no-op once its connection is gone", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  auto client = net::HttpClient::create(loop.get(), server.url(), {});
  REQUIRE(client);
  bool called = false;
  (*client)->send(test::post("x"), [&](auto) { called = true; });
  loop.runUntil([&] { return server.received.size() == 1; });
  (*client)->close();
  loop.runUntil([&] { return server.server().connections() == 0; });
  CHECK_FALSE(server.received.front().responder.pending());
  server.received.front().responder.send(200, {}, "nobody listens");
  CHECK(called);
}

TEST_CASE("HttpServer closes connections beyond max_connections", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get(), {.max_connections = 2}};
  const int port = server.server().port();
  // Two hanging requests hold both connections; the third is closed unread.
  RawClient first{loop.get(), port, "GET /1 HTTP/1.1\r\n\r\n"};
  RawClient second{loop.get(), port, "GET /2 HTTP/1.1\r\n\r\n"};
  loop.runUntil([&] { return server.requests == 2; });
  RawClient third{loop.get(), port, "GET /3 HTTP/1.1\r\n\r\n"};
  loop.runUntil([&] { return !third.stream.has_value(); });
  CHECK(third.got.empty());
  CHECK(server.server().refused() == 1);
  CHECK(server.requests == 2);
  SECTION("a freed place is taken again") {
    first.stream.reset();  // the client hangs up
    loop.runUntil([&] { return server.server().connections() == 1; });
    RawClient fourth{loop.get(), port, "GET /4 HTTP/1.1\r\nConnection: close\r\n\r\n"};
    loop.runUntil([&] { return server.requests == 3; });
    server.received.back().responder.send(200, {}, "four");
    loop.runUntil([&] { return !fourth.stream.has_value(); });
    CHECK(fourth.got.find("four") != std::string::npos);
  }
  server.server().closeNow();
  loop.runUntil([&] { return !second.stream.has_value(); });
}

TEST_CASE("StreamChunk frames its data once", "[net]") {
  const net::StreamChunk chunk{"hello, world"};
  CHECK(chunk.wire() == "c\r\nhello, world\r\n");
  CHECK(chunk.data() == "hello, world");
  const net::StreamChunk empty{""};  // a zero-size chunk would end the body
  CHECK(empty.wire().empty());
  CHECK(empty.data().empty());
  const std::string big(70000, 'x');
  const net::StreamChunk large{big};
  CHECK(large.wire().starts_with("11170\r\n"));
  CHECK(large.data() == big);
}

TEST_CASE("ResponseStream writes a head, then chunks over time", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  RawClient client{loop.get(), server.server().port(), "GET /events HTTP/1.1\r\n\r\n"};
  loop.runUntil([&] { return server.requests == 1; });
  const net::ResponseStream stream =
      server.received.front().responder.startStream(200, {{"Content-Type", "text/event-stream"}});
  REQUIRE(stream.open());
  CHECK_FALSE(server.received.front().responder.pending());
  loop.runUntil([&] { return client.got.find("\r\n\r\n") != std::string::npos; });
  CHECK(client.got.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(client.got.find("Transfer-Encoding: chunked") != std::string::npos);
  stream.write("data: 1\n\n");
  loop.runUntil([&] { return client.got.find("data: 1") != std::string::npos; });
  CHECK(client.got.find("9\r\ndata: 1\n\n\r\n") != std::string::npos);
  CHECK(stream.queuedBytes() == 0);  // loopback takes a small chunk at once
  // A shared chunk: framed once, the same bytes on the wire, the buffer
  // still the caller's (the write let go of it once libuv was done).
  const auto shared = std::make_shared<const net::StreamChunk>("data: 2\n\n");
  stream.write(shared);
  loop.runUntil([&] { return client.got.find("data: 2") != std::string::npos; });
  CHECK(client.got.find("9\r\ndata: 2\n\n\r\n") != std::string::npos);
  loop.runUntil([&] { return shared.use_count() == 1; });
  SECTION("end() sends the last chunk and the connection lives on") {
    stream.end();
    CHECK_FALSE(stream.open());
    loop.runUntil([&] { return client.got.find("0\r\n\r\n") != std::string::npos; });
    CHECK(server.server().connections() == 1);
    client.stream.reset();
  }
  SECTION("close() drops the client") {
    stream.close();
    CHECK_FALSE(stream.open());
    loop.runUntil([&] { return !client.stream.has_value(); });
  }
  SECTION("the client leaving closes the stream") {
    client.stream.reset();
    loop.runUntil([&] { return !stream.open(); });
    stream.write("nobody listens");  // a no-op
  }
  loop.runUntil([&] { return server.server().connections() == 0; });
}
