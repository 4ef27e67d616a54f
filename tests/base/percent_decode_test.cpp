#include "dropd/base/percent_decode.hpp"

#include <catch2/catch.hpp>

using dropd::base::percentDecode;
using dropd::base::PlusIs;

TEST_CASE("percentDecode decodes escapes and leaves bad ones as written", "[base]") {
  CHECK(percentDecode("a%41b%2f%2F") == "aAb//");
  CHECK(percentDecode("%E9%ff") == "\xE9\xFF");
  CHECK(percentDecode("%00") == std::string(1, '\0'));
  SECTION("bad or cut escapes") {
    CHECK(percentDecode("%") == "%");
    CHECK(percentDecode("%4") == "%4");
    CHECK(percentDecode("a%4") == "a%4");
    CHECK(percentDecode("%zz%4g") == "%zz%4g");
    CHECK(percentDecode("%%41") == "%A");
  }
  SECTION("plus") {
    CHECK(percentDecode("a+b%2B") == "a+b+");
    CHECK(percentDecode("a+b%2B", PlusIs::kSpace) == "a b+");
  }
  CHECK(percentDecode("").empty());
}
