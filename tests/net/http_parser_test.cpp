#include "dropd/net/http_parser.hpp"

#include <string>

#include <catch2/catch.hpp>

using dropd::net::HttpParser;
using dropd::net::ParsedMessage;

namespace {

// Feeds `wire` in two pieces split at `at`, the way TCP may cut it.
dropd::Result<ParsedMessage> parseSplit(HttpParser& parser, const std::string& wire,
                                        std::size_t at) {
  std::string_view rest{wire};
  for (std::string_view piece : {rest.substr(0, at), rest.substr(at)}) {
    while (!piece.empty() && !parser.complete()) {
      auto used = parser.feed(piece);
      if (!used) {
        return tl::unexpected{used.error()};
      }
      piece.remove_prefix(*used);
    }
  }
  if (!parser.complete()) {
    if (auto finished = parser.finish(); !finished) {
      return tl::unexpected{finished.error()};
    }
  }
  return parser.take();
}

}  // namespace

TEST_CASE("HttpParser reads a response split at every byte boundary", "[net]") {
  const std::string content_length =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
      "hello world";
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n";
  const std::string until_close = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world";
  const std::string& wire = GENERATE_REF(content_length, chunked, until_close);
  for (std::size_t at = 0; at <= wire.size(); ++at) {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    const auto message = parseSplit(parser, wire, at);
    INFO("split at " << at);
    REQUIRE(message);
    CHECK(message->status == 200);
    CHECK(message->body == "hello world");
  }
}

TEST_CASE("HttpParser keeps the bytes of the next message for later", "[net]") {
  HttpParser parser{HttpParser::Kind::kResponse, {}};
  const std::string two =
      "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
  auto used = parser.feed(two);
  REQUIRE(used);
  REQUIRE(parser.complete());
  const ParsedMessage first = parser.take();
  CHECK(first.status == 204);
  CHECK(first.keep_alive);
  auto rest = parser.feed(std::string_view{two}.substr(*used));
  REQUIRE(rest);
  REQUIRE(parser.complete());
  CHECK(parser.take().body == "x");
}

TEST_CASE("HttpParser skips 1xx interim responses, fed at any split", "[net]") {
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
  const std::size_t piece = GENERATE(std::size_t{1}, std::size_t{4}, std::size_t{1000});
  HttpParser parser{HttpParser::Kind::kResponse, {}};
  for (std::size_t at = 0; at < wire.size(); at += piece) {
    REQUIRE_FALSE(parser.complete());
    REQUIRE(parser.feed(std::string_view{wire}.substr(at, piece)));
  }
  REQUIRE(parser.complete());
  const ParsedMessage message = parser.take();
  CHECK(message.status == 200);
  CHECK(message.headers.size() == 1);  // Content-Length only, no Link
  CHECK(message.body == "x");
}

TEST_CASE("HttpParser reports malformed and oversized messages", "[net]") {
  SECTION("garbage status line") {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    const auto used = parser.feed("HTTP/1.1 abc\r\n\r\n");
    REQUIRE_FALSE(used);
    CHECK(used.error().code == dropd::ErrorCode::kProtocol);
  }
  SECTION("bad chunk size") {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    const auto used = parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    REQUIRE_FALSE(used);
  }
  SECTION("declared body over the cap") {
    HttpParser parser{HttpParser::Kind::kResponse, {.max_header_bytes = 1024, .max_body_bytes = 4}};
    REQUIRE_FALSE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
    CHECK(parser.tooLarge());
  }
  SECTION("chunked body over the cap") {
    HttpParser parser{HttpParser::Kind::kResponse, {.max_header_bytes = 1024, .max_body_bytes = 4}};
    REQUIRE_FALSE(
        parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    CHECK(parser.tooLarge());
  }
  SECTION("truncated body at EOF") {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    REQUIRE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
    CHECK_FALSE(parser.finish());
  }
  SECTION("EOF before anything is fine") {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    CHECK(parser.finish());
    CHECK_FALSE(parser.started());
  }
}

TEST_CASE("HttpParser reads a request with method, target and headers", "[net]") {
  HttpParser parser{HttpParser::Kind::kRequest, {}};
  const std::string wire =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n{}";
  for (std::size_t at = 0; at <= wire.size(); ++at) {
    const auto message = parseSplit(parser, wire, at);
    REQUIRE(message);
    CHECK(message->method == "POST");
    CHECK(message->target == "/v1/chat/completions");
    CHECK(*dropd::net::findHeader(message->headers, "x-a") == "1");
    CHECK(message->body == "{}");
    CHECK(message->keep_alive);
  }
}
