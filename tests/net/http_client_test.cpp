#include "dropd/net/http_client.hpp"

#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/uv/tcp_listener.hpp"

#include "support/loop_fixture.hpp"
#include "test_server.hpp"

using namespace dropd;
using namespace std::chrono_literals;
using dropd::test::post;
using net::HttpClient;
using net::Responder;

namespace {

using Outcome = std::optional<Result<net::HttpResponse>>;

std::unique_ptr<HttpClient> makeClient(uv_loop_t& loop, const net::Url& url,
                                       net::ClientOptions options = {}) {
  auto client = HttpClient::create(loop, url, options);
  REQUIRE(client);
  return std::move(*client);
}

HttpClient::ResponseFn into(Outcome& outcome) {
  return [&outcome](Result<net::HttpResponse> r) { outcome = std::move(r); };
}

}  // namespace

TEST_CASE("HttpClient reuses one keep-alive connection for sequential requests", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  auto client = makeClient(loop.get(), server.url());
  int done = 0;
  std::function<void(Result<net::HttpResponse>)> next = [&](Result<net::HttpResponse> r) {
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "req" + std::to_string(done));
    if (++done < 5) {
      client->send(post("req" + std::to_string(done)), next);
    }
  };
  client->send(post("req0"), next);
  loop.runUntil([&] { return done == 5; });
  CHECK(server.server().accepted() == 1);
  CHECK(client->connectionsOpened() == 1);
  CHECK(client->idleConnections() == 1);
  CHECK(server.received.front().request.header("host") != nullptr);
}

TEST_CASE("HttpClient holds at most max_connections and queues the rest FIFO", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};  // answers nothing until told
  auto client = makeClient(loop.get(), server.url(), {.max_connections = 2});
  std::vector<std::string> completed;
  for (int i = 0; i < 5; ++i) {
    client->send(post(std::to_string(i)), [&completed](Result<net::HttpResponse> r) {
      REQUIRE(r);
      completed.push_back(r->body);
    });
  }
  loop.runUntil([&] { return server.received.size() == 2; });
  CHECK(client->inFlight() == 2);
  CHECK(client->waiting() == 3);
  std::vector<std::string> arrival;
  // Answer whatever arrives, in arrival order, until all five are through.
  loop.runUntil([&] {
    while (!server.received.empty()) {
      auto item = std::move(server.received.front());
      server.received.pop_front();
      arrival.push_back(item.request.body);
      item.responder.send(200, {}, item.request.body);
    }
    return completed.size() == 5;
  });
  CHECK(arrival == std::vector<std::string>{"0", "1", "2", "3", "4"});
  CHECK(server.server().accepted() == 2);
}

TEST_CASE("HttpClient reads Content-Length and chunked answers cut in odd pieces", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  const std::string body = "The quick brown fox jumps over the lazy dog";
  const std::string cl = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\nX-Kind: cl\r\n\r\n" + body;
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n"
      "9\r\nThe quick\r\n22\r\n brown fox jumps over the lazy dog\r\n0\r\n\r\n";
  const std::string& wire = GENERATE_REF(cl, chunked);
  const std::size_t piece = GENERATE(1, 3, 7);
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < wire.size(); at += piece) {
      pieces.push_back(wire.substr(at, piece));
    }
    responder.sendRaw(std::move(pieces), Responder::After::kKeepOpen);
  };
  auto client = makeClient(loop.get(), server.url());
  Outcome first;
  Outcome second;
  client->send(post("a"), into(first));
  loop.runUntil([&] { return first.has_value(); });
  client->send(post("b"), into(second));
  loop.runUntil([&] { return second.has_value(); });
  for (const Outcome* outcome : {&first, &second}) {
    REQUIRE(**outcome);
    CHECK((**outcome)->body == body);
    CHECK((**outcome)->header("x-kind") != nullptr);
  }
  CHECK(server.server().accepted() == 1);
}

TEST_CASE("HttpClient skips 1xx interim answers before the final response", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  const std::string interim =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n";
  const auto final_answer = [](const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  // Whole, and cut so that 1xx lines straddle reads.
  const std::size_t piece = GENERATE(std::size_t{1000}, std::size_t{1}, std::size_t{5});
  server.answer = [&](const net::ServerRequest& request, Responder& responder) {
    const std::string wire = request.body == "a" ? interim + final_answer("first answer")
                                                 : final_answer("second answer");
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < wire.size(); at += piece) {
      pieces.push_back(wire.substr(at, piece));
    }
    responder.sendRaw(std::move(pieces), Responder::After::kKeepOpen);
  };
  auto client = makeClient(loop.get(), server.url());
  Outcome first;
  Outcome second;
  client->send(post("a"), into(first));
  loop.runUntil([&] { return first.has_value(); });
  client->send(post("b"), into(second));
  loop.runUntil([&] { return second.has_value(); });
  REQUIRE(*first);
  CHECK((*first)->status == 200);
  CHECK((*first)->body == "first answer");
  CHECK((*first)->header("link") == nullptr);  // the 103's headers are not the answer's
  REQUIRE(*second);
  CHECK((*second)->status == 200);
  CHECK((*second)->body == "second answer");
  CHECK(server.server().accepted() == 1);
}

TEST_CASE("HttpClient reports a refused connection", "[net]") {
  test::LoopFixture loop;
  int port = 0;
  {
    auto listener = uv::TcpListener::listen(loop.get(), "127.0.0.1", 0, [](auto) {});
    REQUIRE(listener);
    port = listener->port();
  }
  auto client =
      makeClient(loop.get(), *net::Url::parse("http://127.0.0.1:" + std::to_string(port) + "/"));
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE_FALSE(*outcome);
  CHECK(outcome->error().code == ErrorCode::kSystem);
  CHECK(outcome->error().sys == UV_ECONNREFUSED);
  CHECK(client->connections() == 0);
}

TEST_CASE("HttpClient times out a request the server never answers", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  auto client = makeClient(loop.get(), server.url(), {.request_timeout = 50ms});
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE_FALSE(*outcome);
  CHECK(outcome->error().code == ErrorCode::kTimeout);
  CHECK(client->connections() == 0);
  loop.runUntil([&] { return server.server().connections() == 0; });  // we hung up
}

TEST_CASE("HttpClient closes a pooled connection after the idle timeout", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  auto client = makeClient(loop.get(), server.url(), {.idle_timeout = 30ms});
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  CHECK(client->idleConnections() == 1);
  loop.runUntil([&] { return client->connections() == 0 && server.server().connections() == 0; });
}

TEST_CASE("HttpClient notices a pooled connection the server closed", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  // Says keep-alive, then hangs up anyway: the classic keep-alive race.
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({ok}, Responder::After::kClose);
  };
  auto client = makeClient(loop.get(), server.url());
  Outcome first;
  Outcome second;
  SECTION("a request sent into the race is retried once on a fresh connection") {
    client->send(post("a"), [&](Result<net::HttpResponse> r) {
      first = std::move(r);
      client->send(post("b"), into(second));  // before the client has seen the FIN
    });
    loop.runUntil([&] { return second.has_value(); });
    REQUIRE(*first);
    REQUIRE(*second);
    CHECK((*second)->body == "ok");
    CHECK(server.server().accepted() == 2);
    CHECK(server.requests == 2);  // the retried request never reached the closed socket's server
  }
  SECTION("an idle connection closed by the server leaves the pool") {
    client->send(post("a"), into(first));
    loop.runUntil([&] { return first.has_value() && client->connections() == 0; });
    client->send(post("b"), into(second));
    loop.runUntil([&] { return second.has_value(); });
    REQUIRE(*second);
    CHECK(server.server().accepted() == 2);
  }
}

TEST_CASE("HttpClient fails a response cut off mid-body, without retrying", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  const auto after = GENERATE(Responder::After::kReset, Responder::After::kClose);
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only part"}, after);
  };
  auto client = makeClient(loop.get(), server.url());
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE_FALSE(*outcome);
  CHECK(outcome->error().code == ErrorCode::kSystem);
  CHECK((outcome->error().sys == UV_ECONNRESET || outcome->error().sys == UV_EOF));
  CHECK(server.requests == 1);
}

TEST_CASE("HttpClient reports malformed responses as kProtocol", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  std::string wire;
  SECTION("garbage") { wire = "HTTP/1.1 2x0 OK\r\n\r\n"; }
  SECTION("not HTTP at all") { wire = "SSH-2.0-OpenSSH_9.2\r\n"; }
  SECTION("a bad chunk size") {
    wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n";
  }
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({wire}, Responder::After::kKeepOpen);
  };
  auto client = makeClient(loop.get(), server.url(), {.max_response_bytes = 1000});
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE_FALSE(*outcome);
  CHECK(outcome->error().code == ErrorCode::kProtocol);
  CHECK(client->connections() == 0);
}

TEST_CASE("HttpClient refuses a body over max_response_bytes with kTooLarge", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  std::vector<std::string> pieces;
  std::string want;
  SECTION("a Content-Length of 1 TiB, refused at the headers") {
    // The server keeps the connection open: only refusing at the headers ends the exchange.
    pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n", "a little"};
    want = "response body over max_response_bytes (1000): Content-Length 1099511627776";
  }
  SECTION("a chunked body that grows past the cap") {
    pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
              "3e8;a=1;b=2\r\n" + std::string(1000, 'x') + "\r\n", "1\r\nx\r\n"};
    want = "response body over max_response_bytes (1000): chunked body passed 1001 bytes";
  }
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw(pieces, Responder::After::kKeepOpen);
  };
  auto client = makeClient(loop.get(), server.url(), {.max_response_bytes = 1000});
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE_FALSE(*outcome);
  CHECK(outcome->error().code == ErrorCode::kTooLarge);
  CHECK(outcome->error().message() == want);
  CHECK(client->connections() == 0);
}

TEST_CASE("HttpClient reads chunks with several extensions", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = [&](const net::ServerRequest&, Responder& responder) {
    responder.sendRaw({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                       "5;a=1;b=\"x;y\"\r\nhello\r\n6 ; c\r\n world\r\n0\r\n\r\n"},
                      Responder::After::kKeepOpen);
  };
  auto client = makeClient(loop.get(), server.url());
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE(*outcome);
  CHECK((*outcome)->body == "hello world");
  CHECK(client->idleConnections() == 1);
}

TEST_CASE("HttpClient honours Connection: close", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = [](const net::ServerRequest&, Responder& responder) {
    responder.send(200, {{"Connection", "close"}}, "bye");
  };
  auto client = makeClient(loop.get(), server.url());
  Outcome first;
  client->send(post("a"), into(first));
  loop.runUntil([&] { return first.has_value(); });
  REQUIRE(*first);
  CHECK(client->connections() == 0);
  Outcome second;
  client->send(post("b"), into(second));
  loop.runUntil([&] { return second.has_value(); });
  REQUIRE(*second);
  CHECK(server.server().accepted() == 2);
}

TEST_CASE("HttpClient moves an 8 MiB body both ways", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  auto client = makeClient(loop.get(), server.url());
  std::string big(8u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + i % 26);
  }
  Outcome outcome;
  client->send(post(big), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  REQUIRE(*outcome);
  CHECK((*outcome)->body.size() == big.size());
  CHECK((*outcome)->body == big);
}

TEST_CASE("HttpClient close() cancels waiting and in-flight requests", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  auto client = makeClient(loop.get(), server.url(), {.max_connections = 1});
  std::vector<ErrorCode> codes;
  for (int i = 0; i < 3; ++i) {
    client->send(post("x"), [&](Result<net::HttpResponse> r) {
      REQUIRE_FALSE(r);
      codes.push_back(r.error().code);
    });
  }
  loop.runUntil([&] { return server.requests == 1; });
  client->close();
  CHECK(codes == std::vector<ErrorCode>(3, ErrorCode::kCancelled));
  Outcome late;
  client->send(post("y"), into(late));
  REQUIRE(late.has_value());
  CHECK(late->error().code == ErrorCode::kCancelled);
  loop.runUntil([&] { return server.server().connections() == 0; });
}

TEST_CASE("HttpClient callback may destroy the client", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  auto client = makeClient(loop.get(), server.url());
  bool done = false;
  client->send(post("x"), [&](Result<net::HttpResponse> r) {
    REQUIRE(r);
    client.reset();
    done = true;
  });
  loop.runUntil([&] { return done; });
  loop.runUntil([&] { return server.server().connections() == 0; });
}

TEST_CASE("HttpClient resolves a host name", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  server.answer = test::echo;
  auto client = makeClient(
      loop.get(), *net::Url::parse("http://localhost:" + std::to_string(server.server().port())));
  Outcome outcome;
  client->send(post("x"), into(outcome));
  loop.runUntil([&] { return outcome.has_value(); });
  // localhost may resolve to ::1 first; the client falls back to 127.0.0.1.
  REQUIRE(*outcome);
  CHECK((*outcome)->body == "x");
  CHECK(server.received.front().request.header("host") != nullptr);
  CHECK(*server.received.front().request.header("host") ==
        "localhost:" + std::to_string(server.server().port()));
}
