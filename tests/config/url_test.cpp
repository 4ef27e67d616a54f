#include "dropd/config/url.hpp"

#include <catch2/catch.hpp>

using dropd::config::parseHttpUrl;
using dropd::config::parseListenAddress;

TEST_CASE("parseHttpUrl splits http and https URLs", "[config]") {
  SECTION("default ports and target") {
    const auto a = parseHttpUrl("http://127.0.0.1:8089/v1/chat/completions").value();
    CHECK(a.scheme == "http");
    CHECK(a.host == "127.0.0.1");
    CHECK(a.port == 8089);
    CHECK(a.target == "/v1/chat/completions");
    CHECK_FALSE(a.tls());
    const auto b = parseHttpUrl("https://api.example.com").value();
    CHECK(b.port == 443);
    CHECK(b.target == "/");
    CHECK(b.tls());
    CHECK(parseHttpUrl("http://h?x=1").value().target == "/?x=1");
    CHECK(parseHttpUrl("http://h").value().port == 80);
  }
  SECTION("IPv6 literal") {
    const auto u = parseHttpUrl("http://[::1]:8080/v1").value();
    CHECK(u.host == "::1");
    CHECK(u.port == 8080);
  }
  SECTION("refused") {
    for (const char* text :
         {"", "127.0.0.1:8080/v1", "ftp://h/x", "HTTP://h/", "http://", "http://:80/",
          "http://h:0/", "http://h:65536/", "http://h:x/", "http://h:/", "http://a b/",
          "http://h/#frag", "http://[zz]/", "http://h_1:80:90/", "http://user:pw@h/"}) {
      INFO(text);
      CHECK_FALSE(parseHttpUrl(text).has_value());
    }
  }
  SECTION("credentials are refused without echoing them") {
    const std::string message = parseHttpUrl("https://bob:hunter2@h/").error().context;
    CHECK(message == "url must not hold credentials (user:password@); use api_key");
  }
}

TEST_CASE("parseListenAddress needs an IP and a port and knows loopback", "[config]") {
  CHECK(parseListenAddress("127.0.0.1:9464").value().loopback);
  CHECK(parseListenAddress("127.8.0.1:1").value().loopback);
  CHECK(parseListenAddress("localhost:0").value().host == "127.0.0.1");
  CHECK(parseListenAddress("[::1]:9464").value().loopback);
  CHECK_FALSE(parseListenAddress("0.0.0.0:9464").value().loopback);
  CHECK_FALSE(parseListenAddress("[::]:9464").value().loopback);
  CHECK_FALSE(parseListenAddress("10.1.2.3:80").value().loopback);
  for (const char* text : {"", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", ":9464",
                           "example.com:80", "::1:9464", "127.0.0.1:65536", "[::1]9464"}) {
    INFO(text);
    CHECK_FALSE(parseListenAddress(text).has_value());
  }
}
