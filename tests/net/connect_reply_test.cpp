#include "dropd/net/connect_reply.hpp"

#include <string>

#include <catch2/catch.hpp>

using dropd::net::ConnectReply;
using dropd::net::parseConnectReply;
using State = ConnectReply::State;

TEST_CASE("parseConnectReply reads a proxy's answer to CONNECT", "[net][proxy]") {
  SECTION("a 200 with headers, CRLF") {
    const std::string head = "HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n";
    const auto r = parseConnectReply(head, 1024);
    CHECK(r.state == State::kDone);
    CHECK(r.status == 200);
    CHECK(r.head_bytes == head.size());
  }
  SECTION("bare LF line ends and no reason phrase") {
    const auto r = parseConnectReply("HTTP/1.0 407\n\nbody", 1024);
    CHECK(r.state == State::kDone);
    CHECK(r.status == 407);
    CHECK(r.head_bytes == 14);
  }
  SECTION("a head that has not ended yet") {
    CHECK(parseConnectReply("", 1024).state == State::kIncomplete);
    CHECK(parseConnectReply("HTTP/1.1 2", 1024).state == State::kIncomplete);
    CHECK(parseConnectReply("HTTP/1.1 200 OK\r\nA: b\r\n", 1024).state == State::kIncomplete);
  }
  SECTION("what is not an HTTP/1.x status line") {
    for (const char* bad : {"SSH-2.0-OpenSSH\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 20\r\n\r\n",
                            "HTTP/1.1 2000\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n", "\r\n\r\n"}) {
      CAPTURE(bad);
      CHECK(parseConnectReply(bad, 1024).state == State::kMalformed);
    }
  }
  SECTION("a head over the limit") {
    const std::string head = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
    CHECK(parseConnectReply(head, 50).state == State::kMalformed);
    CHECK(parseConnectReply(head.substr(0, 60), 50).state == State::kMalformed);
    CHECK(parseConnectReply(head.substr(0, 40), 50).state == State::kIncomplete);
  }
}
