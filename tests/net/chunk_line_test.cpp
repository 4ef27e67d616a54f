#include "dropd/net/chunk_line.hpp"

#include <string>

#include <catch2/catch.hpp>

using dropd::net::chunkSizeOf;

TEST_CASE("chunkSizeOf returns the size digits of a legal line", "[net]") {
  CHECK(chunkSizeOf("5") == "5");
  CHECK(chunkSizeOf("00aF") == "00aF");
  CHECK(chunkSizeOf("5;a") == "5");
  CHECK(chunkSizeOf("5;a=1;b=2") == "5");
  CHECK(chunkSizeOf("5;a=\"x;y\";b") == "5");
  CHECK(chunkSizeOf("5 \t; a = \"q\\\"d\" ;b=tok!#") == "5");
  CHECK(chunkSizeOf("5;a=\"\"") == "5");
  CHECK(chunkSizeOf("5;a=\"caf\xc3\xa9\"") == "5");  // obs-text
}

TEST_CASE("chunkSizeOf refuses what RFC 9112 does not allow", "[net]") {
  const std::string line =
      GENERATE(as<std::string>{}, "", ";a", "x", " 5", "5 ", "5;", "5;;a", "5;=1",
               "5;a=", "5;a =", "5;a=1 ", "5;a b", "5;a=b c", "5;a=\"x", "5;a=\"x\\", "5;a=\"x\"y",
               "5;a=\"x\ry\"", "5;a=\"\x7f\"", "5;a@=1", "5\r", "5,6");
  INFO("line " << line);
  CHECK_FALSE(chunkSizeOf(line).has_value());
}
