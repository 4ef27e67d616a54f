#include "dropd/file/file_name.hpp"

#include <catch2/catch.hpp>

#include "dropd/base/utf8_decode.hpp"

using dropd::file::fitName;
using dropd::file::kNameMax;
using dropd::file::tempNameFor;

namespace {

bool validUtf8(const std::string& s) {
  return dropd::base::decodeUtf8(reinterpret_cast<const unsigned char*>(s.data()), s.size())
             .invalid_bytes == 0;
}

}  // namespace

TEST_CASE("fitName keeps a name that fits and shortens one that does not", "[file]") {
  SECTION("short names are only suffixed") {
    CHECK(fitName("a.txt", ".json") == "a.txt.json");
    CHECK(fitName("", ".json") == ".json");
    CHECK(fitName(std::string(250, 'x'), ".json") == std::string(250, 'x') + ".json");
  }
  SECTION("a name at NAME_MAX still gets its suffix, within NAME_MAX") {
    for (std::size_t len = 240; len <= kNameMax; ++len) {
      const std::string name(len, 'n');
      for (const std::string suffix : {".json", ".1.error.json", ".12", ".deadbeef.dropd-tmp"}) {
        const std::string fitted = fitName(name, suffix);
        CHECK(fitted.size() <= kNameMax);
        CHECK(fitted.substr(fitted.size() - suffix.size()) == suffix);
      }
    }
  }
  SECTION("long names that share a prefix stay apart") {
    const std::string a = std::string(254, 'p') + "a";
    const std::string b = std::string(254, 'p') + "b";
    CHECK(fitName(a, ".json") != fitName(b, ".json"));
    CHECK(fitName(a, ".json") == fitName(a, ".json"));  // stable
  }
  SECTION("a cut never splits a UTF-8 sequence") {
    std::string name;
    while (name.size() < kNameMax - 2) {
      name += "\xc3\xa9";  // é, two bytes
    }
    for (std::size_t extra = 0; extra < 4; ++extra) {
      const std::string fitted = fitName(name, std::string(".json").append(extra, 'x'));
      CHECK(validUtf8(fitted));
    }
  }
  SECTION("bytes that are not UTF-8 are cut like any byte") {
    const std::string name(kNameMax, '\xff');
    const std::string fitted = fitName(name, ".json");
    CHECK(fitted.size() == kNameMax);
  }
  SECTION("an absurd suffix is cut, not overflowed") {
    CHECK(fitName("a", std::string(300, 's'), 10).size() == 10);
  }
}

TEST_CASE("tempNameFor is hidden, ends in .dropd-tmp and fits", "[file]") {
  for (const std::size_t len : {1UL, 100UL, 230UL, 231UL, 250UL, kNameMax}) {
    const std::string name = std::string(len, 'r');
    const std::string temp = tempNameFor(name, 0xabcdef01U);
    CHECK(temp.front() == '.');
    CHECK(temp.size() <= kNameMax);
    CHECK(temp.substr(temp.size() - 10) == ".dropd-tmp");
    CHECK(temp.find("abcdef01") != std::string::npos);
  }
  CHECK(tempNameFor("x.json", 1) != tempNameFor("x.json", 2));
}
