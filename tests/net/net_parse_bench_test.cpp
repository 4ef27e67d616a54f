// Hidden benchmarks of the net module's parsers: URLs (once per endpoint)
// and HTTP responses (once per request). Run with `test_net "[bench]"`.

#include <string>

#include <catch2/catch.hpp>

#include "dropd/net/http_parser.hpp"
#include "dropd/net/url.hpp"

TEST_CASE("URL and HTTP response parsing", "[.][bench]") {
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-ratelimit-remaining-requests: 59\r\n"
      "x-ratelimit-reset-tokens: 6m0s\r\nContent-Length: 2048\r\n\r\n" +
      std::string(2048, 'x');

  BENCHMARK("Url::parse") {
    return dropd::net::Url::parse("https://api.example.com:8443/v1/chat/completions?x=1");
  };
  BENCHMARK("HttpParser, a 2 KiB response") {
    dropd::net::HttpParser parser(dropd::net::HttpParser::Kind::kResponse, {});
    const auto used = parser.feed(response);
    return used && parser.complete() ? parser.take().body.size() : 0;
  };
}
