#include <catch2/catch.hpp>

#include "dropd/config/record_prefix.hpp"

namespace {

using dropd::config::recordPrefixes;
using dropd::config::rootOfRecord;
using Paths = std::vector<std::filesystem::path>;
using Prefixes = std::vector<std::string>;

// True when no prefix equals another or begins it, so that no two files of
// different roots can get the same relative path.
bool apart(const Prefixes& prefixes) {
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    for (std::size_t j = 0; j < prefixes.size(); ++j) {
      if (i != j && prefixes[j].starts_with(prefixes[i])) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

TEST_CASE("recordPrefixes gives a lone root no prefix and none to no root", "[config]") {
  CHECK(recordPrefixes(Paths{}).empty());
  CHECK(recordPrefixes(Paths{"/srv/in"}) == Prefixes{""});
  CHECK(recordPrefixes(Paths{"/"}) == Prefixes{""});
}

TEST_CASE("recordPrefixes keeps the folder name when the names differ", "[config]") {
  // What dropd always used, so existing ledgers keep their keys.
  CHECK(recordPrefixes(Paths{"/a/in", "/b/out"}) == Prefixes{"in/", "out/"});
  CHECK(recordPrefixes(Paths{"/a/x", "/a/y", "/z"}) == Prefixes{"x/", "y/", "z/"});
}

TEST_CASE("recordPrefixes adds parent folders until the roots are apart", "[config]") {
  SECTION("the same folder name under two parents") {
    CHECK(recordPrefixes(Paths{"/r1/x", "/r2/x"}) == Prefixes{"r1/x/", "r2/x/"});
  }
  SECTION("roots that differ only deep up") {
    CHECK(recordPrefixes(Paths{"/a/m/n/o", "/b/m/n/o"}) == Prefixes{"a/m/n/o/", "b/m/n/o/"});
  }
  SECTION("only the roots that share a name grow") {
    CHECK(recordPrefixes(Paths{"/r1/x", "/in", "/r2/x"}) == Prefixes{"r1/x/", "in/", "r2/x/"});
  }
  SECTION("a shorter prefix that begins a longer one grows too") {
    // /b/x/y needs "x/y/" to differ from /c/y; then "x/" of /a/x would begin
    // it ("x/" + "y/f" of /a/x/y/f against "x/y/" + "f" of /b/x/y/f).
    const Prefixes prefixes = recordPrefixes(Paths{"/a/x", "/b/x/y", "/c/y"});
    CHECK(prefixes == Prefixes{"a/x/", "x/y/", "c/y/"});
    CHECK(apart(prefixes));
  }
  SECTION("a root at the top") {
    CHECK(recordPrefixes(Paths{"/x", "/a/x"}) == Prefixes{"x/", "a/x/"});
  }
}

TEST_CASE("recordPrefixes ignores trailing slashes and dots", "[config]") {
  CHECK(recordPrefixes(Paths{"/r1/x/", "/r2/./x//"}) == Prefixes{"r1/x/", "r2/x/"});
  CHECK(recordPrefixes(Paths{"/a/in/", "/b/out"}) == Prefixes{"in/", "out/"});
}

TEST_CASE("recordPrefixes is total on roots that cannot be told apart", "[config]") {
  // validate refuses these; the result only has to be defined.
  CHECK(recordPrefixes(Paths{"/srv/in", "/srv/in"}) == Prefixes{"srv/in/", "srv/in/"});
  CHECK(recordPrefixes(Paths{"/srv", "/srv/in"}) == Prefixes{"srv/", "in/"});
  CHECK(recordPrefixes(Paths{"/a", "/a/a"}) == Prefixes{"a/", "a/a/"});
  CHECK(recordPrefixes(Paths{"/", "/a"}) == Prefixes{"", "a/"});
  CHECK(recordPrefixes(Paths{"", "rel/x", "x"}).size() == 3);
}

TEST_CASE("rootOfRecord finds the root a relative path came from", "[config]") {
  const Prefixes two{"r1/x/", "r2/x/"};
  CHECK(rootOfRecord(two, "r2/x/sub/f.txt") == 1);
  CHECK(rootOfRecord(two, "r1/x/f.txt") == 0);
  CHECK_FALSE(rootOfRecord(two, "r1/xy/f.txt").has_value());
  CHECK_FALSE(rootOfRecord(two, "").has_value());
  CHECK(rootOfRecord(Prefixes{""}, "any/f.txt") == 0);
  CHECK_FALSE(rootOfRecord(Prefixes{}, "f.txt").has_value());
}
