#include "dropd/config/json_scalar.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

using dropd::config::plainScalarToJson;
using nlohmann::json;

namespace {

json valueOf(const std::string& text) {
  INFO(text);
  auto value = plainScalarToJson(text);
  REQUIRE(value.has_value());
  return *value;
}

}  // namespace

TEST_CASE("plainScalarToJson follows the YAML 1.2 core schema", "[config]") {
  SECTION("null and booleans in the schema's three spellings") {
    for (const char* text : {"", "~", "null", "Null", "NULL"}) {
      CHECK(valueOf(text).is_null());
    }
    for (const char* text : {"true", "True", "TRUE"}) {
      CHECK(valueOf(text) == json(true));
    }
    for (const char* text : {"false", "False", "FALSE"}) {
      CHECK(valueOf(text) == json(false));
    }
  }
  SECTION("integers: decimal with a sign, octal 0o, hexadecimal 0x") {
    CHECK(valueOf("0") == json(0));
    CHECK(valueOf("+1") == json(1));
    CHECK(valueOf("-12") == json(-12));
    CHECK(valueOf("007") == json(7));
    CHECK(valueOf("0x10") == json(16));
    CHECK(valueOf("0xfF") == json(255));
    CHECK(valueOf("0o17") == json(15));
    CHECK(valueOf("1024").is_number_integer());
    CHECK(valueOf("-9223372036854775808") == json(std::numeric_limits<std::int64_t>::min()));
    CHECK(valueOf("18446744073709551615") == json(std::numeric_limits<std::uint64_t>::max()));
  }
  SECTION("floats") {
    CHECK(valueOf("1e3") == json(1000.0));
    CHECK(valueOf("1e3").is_number_float());
    CHECK(valueOf("0.2") == json(0.2));
    CHECK(valueOf("+1.5") == json(1.5));
    CHECK(valueOf("-.5") == json(-0.5));
    CHECK(valueOf("2.") == json(2.0));
    CHECK(valueOf("1.5E-2") == json(0.015));
    CHECK(valueOf("1e3").dump() == "1000.0");
  }
  SECTION("everything else is a string, YAML 1.1's words and forms included") {
    for (const char* text :
         {"yes",   "no",    "on",     "off",   "y",       "0b101", "1_000", "-0x10",
          "+0o7",  "0x",    "0o8",    "1e",    "e3",      ".",     "+",     "-",
          "1.2.3", "12:30", "gpt-4o", "TRUE!", "nullish", " 1",    "1 "}) {
      INFO(text);
      CHECK(valueOf(text) == json(text));
    }
  }
}

TEST_CASE("plainScalarToJson refuses what JSON cannot carry as written", "[config]") {
  SECTION("infinities and NaN, in YAML's spelling and the C one") {
    for (const char* text : {".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN",
                             "inf", "-inf", "nan", "NaN", "Infinity", "-infinity"}) {
      INFO(text);
      const auto value = plainScalarToJson(text);
      REQUIRE_FALSE(value.has_value());
      CHECK(value.error().context ==
            std::string(text) +
                " is not a finite number, and JSON cannot carry it (quote it for a string)");
    }
  }
  SECTION("numbers out of range") {
    CHECK(plainScalarToJson("18446744073709551616").error().context ==
          "integer 18446744073709551616 does not fit in 64 bits");
    CHECK_FALSE(plainScalarToJson("-9223372036854775809").has_value());
    CHECK_FALSE(plainScalarToJson("0x10000000000000000").has_value());
    CHECK(plainScalarToJson("1e999").error().context ==
          "number 1e999 is out of range for a double");
    CHECK_FALSE(plainScalarToJson("1e-400").has_value());  // would arrive as 0
  }
}
