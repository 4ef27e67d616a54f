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
  SECTION("bad chunk-size lines") {
    const std::string line =
        GENERATE(as<std::string>{}, "zz", "-5", " 5", "5 x", "5;", "5;=1", "5;a=", "5;a=\"x",
                 "5;a b", "5 ", "5;a=1 ", "5\rx", "5;a=\"\x01\"", "fffffffffffffffff");
    INFO("chunk-size line " << line);
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    const auto used = parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + line +
                                  "\r\nhello\r\n0\r\n\r\n");
    REQUIRE_FALSE(used);
    CHECK(used.error().code == dropd::ErrorCode::kProtocol);
    CHECK_FALSE(parser.tooLarge());
  }
  SECTION("Content-Length and chunked together") {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    CHECK_FALSE(
        parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n0\r\n\r\n"));
  }
  SECTION("a chunk-size line without end") {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    REQUIRE(parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a="));
    CHECK_FALSE(parser.feed(std::string(5000, 'x')));
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

TEST_CASE("HttpParser reads legal chunk extensions, fed at any split", "[net]") {
  const std::string line =
      GENERATE(as<std::string>{}, "5;a=1;b=2", "5;a=\"x;y\"", "5;a=1;b=\"x;y\"", "5;a", "5;a;b=2",
               "5 ;a=1", "5\t;a=1", "5 ; a = 1 ;b", "5;a=\"x\\\"y\"", "5;a=\"\"", "0005;a=1");
  const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + line +
                           "\r\nhello\r\n6;last=1;z=\"q\"\r\n world\r\n0;end\r\n\r\n";
  for (std::size_t at = 0; at <= wire.size(); ++at) {
    HttpParser parser{HttpParser::Kind::kResponse, {}};
    const auto message = parseSplit(parser, wire, at);
    INFO("chunk-size line " << line << ", split at " << at);
    REQUIRE(message);
    CHECK(message->body == "hello world");
    CHECK(message->keep_alive);
  }
}

TEST_CASE("HttpParser keeps a chunked message's successor for later", "[net]") {
  HttpParser parser{HttpParser::Kind::kResponse, {}};
  const std::string two =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=1;b=2\r\nhi\r\n0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x\r\n!\r\n0\r\n\r\n";
  auto used = parser.feed(two);
  REQUIRE(used);
  REQUIRE(parser.complete());
  CHECK(parser.take().body == "hi");
  auto rest = parser.feed(std::string_view{two}.substr(*used));
  REQUIRE(rest);
  CHECK(*used + *rest == two.size());
  REQUIRE(parser.complete());
  CHECK(parser.take().body == "!");
}

TEST_CASE("HttpParser refuses a body over the cap with kTooLarge", "[net]") {
  const dropd::net::ParserLimits limits{
      .max_header_bytes = 1024, .max_body_bytes = 4, .body_limit_name = "max_response_bytes"};
  HttpParser parser{HttpParser::Kind::kResponse, limits};
  SECTION("a Content-Length over the cap, at the headers") {
    const auto used = parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n");
    REQUIRE_FALSE(used);
    CHECK(used.error().code == dropd::ErrorCode::kTooLarge);
    CHECK(used.error().message() ==
          "response body over max_response_bytes (4): Content-Length 1099511627776");
    CHECK(parser.tooLarge());
  }
  SECTION("a chunked body that grows over the cap") {
    REQUIRE(
        parser.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=1;b=2\r\nabc\r\n"));
    const auto used = parser.feed("2\r\nde\r\n");
    REQUIRE_FALSE(used);
    CHECK(used.error().code == dropd::ErrorCode::kTooLarge);
    CHECK(used.error().message() ==
          "response body over max_response_bytes (4): chunked body passed 5 bytes");
    CHECK(parser.tooLarge());
  }
  SECTION("a read-until-close body that grows over the cap") {
    const auto used = parser.feed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello");
    REQUIRE_FALSE(used);
    CHECK(used.error().code == dropd::ErrorCode::kTooLarge);
    CHECK(used.error().message() ==
          "response body over max_response_bytes (4): read-until-close body passed 5 bytes");
  }
  SECTION("a body of exactly the cap is fine") {
    REQUIRE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"));
    REQUIRE(parser.complete());
    CHECK(parser.take().body == "abcd");
  }
}
