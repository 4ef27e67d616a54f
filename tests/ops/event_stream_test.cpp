#include "dropd/ops/event_stream.hpp"

#include <string>

#include <catch2/catch.hpp>

using dropd::ops::ChunkedDecoder;

TEST_CASE("parseStreamHead finds the status and the framing", "[ops]") {
  SECTION("a chunked event stream") {
    const std::string bytes =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n5";
    const auto head = dropd::ops::parseStreamHead(bytes);
    REQUIRE(head);
    REQUIRE(*head);
    CHECK((*head)->status == 200);
    CHECK((*head)->chunked);
    CHECK((*head)->size == bytes.size() - 1);
  }
  SECTION("a head without its blank line yet") {
    const auto head = dropd::ops::parseStreamHead("HTTP/1.1 200 OK\r\nA: b\r\n");
    REQUIRE(head);
    CHECK_FALSE(*head);
  }
  SECTION("a 401, not chunked") {
    const auto head = dropd::ops::parseStreamHead("HTTP/1.1 401 Unauthorized\r\n\r\n");
    REQUIRE(head);
    CHECK((*head)->status == 401);
    CHECK_FALSE((*head)->chunked);
  }
  SECTION("garbage and a head that never ends") {
    CHECK_FALSE(dropd::ops::parseStreamHead("SSH-2.0-x\r\n\r\n"));
    CHECK_FALSE(dropd::ops::parseStreamHead("HTTP/1.1 2\r\n\r\n"));
    CHECK_FALSE(dropd::ops::parseStreamHead(std::string(17 * 1024, 'a')));
  }
}

TEST_CASE("ChunkedDecoder undoes chunked framing split at any byte", "[ops]") {
  const std::string framed = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
  for (std::size_t split = 0; split <= framed.size(); ++split) {
    CAPTURE(split);
    ChunkedDecoder decoder;
    const auto a = decoder.feed(std::string_view(framed).substr(0, split));
    const auto b = decoder.feed(std::string_view(framed).substr(split));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a + *b == "hello, world");
    CHECK(decoder.finished());
  }
  SECTION("a bad size line or missing CRLF is an error") {
    ChunkedDecoder bad_size;
    CHECK_FALSE(bad_size.feed("zz\r\n"));
    ChunkedDecoder no_crlf;
    CHECK_FALSE(no_crlf.feed("1\r\nab\r\n"));
    ChunkedDecoder huge;
    CHECK_FALSE(huge.feed("ffffffffffffffff\r\n"));
  }
}
