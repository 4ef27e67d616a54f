#include "dropd/net/url.hpp"

#include <catch2/catch.hpp>

using dropd::net::Url;

TEST_CASE("Url parses scheme, host, port and target", "[net]") {
  SECTION("defaults") {
    const auto url = Url::parse("http://Example.com");
    REQUIRE(url);
    CHECK(url->scheme == "http");
    CHECK(url->host == "example.com");
    CHECK(url->port == 80);
    CHECK(url->target == "/");
    CHECK(url->hostHeader() == "example.com");
  }
  SECTION("explicit port, path and query; fragment dropped") {
    const auto url = Url::parse("HTTPS://api.x.org:8443/v1/chat/completions?a=1#frag");
    REQUIRE(url);
    CHECK(url->tls());
    CHECK(url->port == 8443);
    CHECK(url->target == "/v1/chat/completions?a=1");
    CHECK(url->hostHeader() == "api.x.org:8443");
  }
  SECTION("IPv6 literal") {
    const auto url = Url::parse("http://[::1]:8080/x");
    REQUIRE(url);
    CHECK(url->host == "::1");
    CHECK(url->port == 8080);
    CHECK(url->hostHeader() == "[::1]:8080");
    CHECK(url->authority() == "[::1]:8080");
  }
  SECTION("IPv6 literal in upper case reads as lower case, as names do") {
    const auto url = Url::parse("http://[FE80::1]/");
    REQUIRE(url);
    CHECK(url->host == "fe80::1");
    CHECK(url->hostHeader() == "[fe80::1]");
  }
  SECTION("query without path") {
    const auto url = Url::parse("http://h?q=1");
    REQUIRE(url);
    CHECK(url->target == "/?q=1");
  }
}

TEST_CASE("Url rejects what it cannot use", "[net]") {
  const char* bad = GENERATE(
      "example.com/x", "ftp://h/", "http://", "http://:80/", "http://h:0/", "http://h:65536/",
      "http://h:8x/", "http://[::1/", "http://[::1]x/", "http://user:pw@h/", "http://h/a b",
      // Found by tests/fuzz/url_fuzz.cpp: these went into Host as they were.
      "http://ex ample.com/", "http://h\r\nX-Injected: 1/", "http://[::1\t]/", "http://h\x7f/",
      "http://::1]:8080/", "http://a:b:80/", "http://h]/", "http://[example.com]/");
  const auto url = Url::parse(bad);
  REQUIRE_FALSE(url);
  CHECK(url.error().code == dropd::ErrorCode::kInvalid);
}
