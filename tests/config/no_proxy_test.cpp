#include "dropd/config/no_proxy.hpp"

#include <catch2/catch.hpp>

using dropd::config::noProxyMatches;

TEST_CASE("noProxyMatches follows curl's NO_PROXY rules", "[config][proxy]") {
  SECTION("an empty list matches nothing") {
    CHECK_FALSE(noProxyMatches("", "example.com", 443));
    CHECK_FALSE(noProxyMatches(" , ,", "example.com", 443));
  }
  SECTION("* matches everything, alone or as one entry") {
    CHECK(noProxyMatches("*", "example.com", 443));
    CHECK(noProxyMatches("*", "10.1.2.3", 80));
    CHECK(noProxyMatches("a.com, *", "b.org", 80));
    CHECK_FALSE(noProxyMatches("*.example.com", "api.example.com", 443));  // not a glob
  }
  SECTION("a name matches itself and what is below it, with or without a dot") {
    for (const char* entry : {"example.com", ".example.com", "EXAMPLE.com.", "  example.com "}) {
      CAPTURE(entry);
      CHECK(noProxyMatches(entry, "example.com", 443));
      CHECK(noProxyMatches(entry, "api.Example.com", 443));
      CHECK(noProxyMatches(entry, "a.b.example.com.", 443));
      CHECK_FALSE(noProxyMatches(entry, "notexample.com", 443));
      CHECK_FALSE(noProxyMatches(entry, "example.com.evil", 443));
    }
    CHECK(noProxyMatches("localhost,internal", "internal", 80));
    CHECK_FALSE(noProxyMatches("api.example.com", "example.com", 443));
  }
  SECTION("entries are split at commas, spaces and tabs") {
    CHECK(noProxyMatches("a.com b.com\tc.com,d.com", "c.com", 80));
    CHECK(noProxyMatches("a.com,,d.com", "d.com", 80));
  }
  SECTION("IP addresses compare as addresses, and CIDR ranges") {
    CHECK(noProxyMatches("127.0.0.1", "127.0.0.1", 8080));
    CHECK_FALSE(noProxyMatches("127.0.0.1", "127.0.0.2", 8080));
    CHECK(noProxyMatches("10.0.0.0/8", "10.200.3.4", 80));
    CHECK_FALSE(noProxyMatches("10.0.0.0/8", "11.0.0.1", 80));
    CHECK(noProxyMatches("192.168.1.0/23", "192.168.0.9", 80));
    CHECK(noProxyMatches("0.0.0.0/0", "8.8.8.8", 80));
    CHECK(noProxyMatches("::1", "0:0:0:0:0:0:0:1", 80));
    CHECK(noProxyMatches("[::1]", "::1", 80));
    CHECK(noProxyMatches("fd00::/8", "fdab::1", 80));
    CHECK_FALSE(noProxyMatches("fd00::/8", "fe80::1", 80));
    CHECK(noProxyMatches("::1", "[::1]", 80));  // a bracketed host is taken too
  }
  SECTION("names and addresses never match each other") {
    CHECK_FALSE(noProxyMatches("localhost", "127.0.0.1", 80));
    CHECK_FALSE(noProxyMatches("127.0.0.1", "localhost", 80));
    CHECK_FALSE(noProxyMatches("0.1", "10.0.0.1", 80));  // no suffix match on addresses
    CHECK_FALSE(noProxyMatches("::ffff:127.0.0.1", "127.0.0.1", 80));
  }
  SECTION("a port limits the entry to that port") {
    CHECK(noProxyMatches("example.com:8443", "api.example.com", 8443));
    CHECK_FALSE(noProxyMatches("example.com:8443", "api.example.com", 443));
    CHECK(noProxyMatches("127.0.0.1:8080", "127.0.0.1", 8080));
    CHECK_FALSE(noProxyMatches("127.0.0.1:8080", "127.0.0.1", 8081));
    CHECK(noProxyMatches("[::1]:80", "::1", 80));
    CHECK_FALSE(noProxyMatches("[::1]:80", "::1", 81));
  }
  SECTION("malformed entries match nothing") {
    for (const char* entry : {"example.com:", "example.com:x", "example.com:99999", "[::1",
                              "[::1]x", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/a", ":80", "."}) {
      CAPTURE(entry);
      CHECK_FALSE(noProxyMatches(entry, "example.com", 80));
      CHECK_FALSE(noProxyMatches(entry, "10.0.0.1", 80));
      CHECK_FALSE(noProxyMatches(entry, "::1", 80));
    }
  }
  SECTION("an empty host never matches, not even *") { CHECK_FALSE(noProxyMatches("*", "", 80)); }
}
