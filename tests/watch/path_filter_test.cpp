#include "dropd/watch/path_filter.hpp"

#include <catch2/catch.hpp>

using dropd::watch::PathFilter;

TEST_CASE("PathFilter applies include and exclude globs", "[watch]") {
  const PathFilter filter({"*"}, {".*", "*~", "*.tmp", "*.part", "*.swp", "@eaDir", "Thumbs.db"});
  CHECK(filter.acceptsFile("report.txt"));
  CHECK(filter.acceptsFile("sub/dir/a b.md"));
  CHECK_FALSE(filter.acceptsFile(".hidden"));
  CHECK_FALSE(filter.acceptsFile("sub/.git/config"));
  CHECK_FALSE(filter.acceptsFile("notes.txt~"));
  CHECK_FALSE(filter.acceptsFile("upload.part"));
  CHECK_FALSE(filter.acceptsFile("a/@eaDir/x.txt"));
  CHECK_FALSE(filter.acceptsFile("pics/Thumbs.db"));
  CHECK(filter.acceptsDir("sub"));
  CHECK_FALSE(filter.acceptsDir("sub/.stfolder"));

  SECTION("include narrows to matching names; a pattern with '/' sees the path") {
    const PathFilter only({"*.txt", "docs/*.md"}, {});
    CHECK(only.acceptsFile("x/a.txt"));
    CHECK_FALSE(only.acceptsFile("x/a.md"));
    CHECK(only.acceptsFile("docs/a.md"));
    CHECK_FALSE(only.acceptsFile("other/docs/a.md"));
  }
}

// Found by tests/fuzz/path_filter_fuzz.cpp: acceptsDir("archive/old") was
// false while acceptsFile("archive/old/x.txt") was true.
TEST_CASE("PathFilter excludes what is inside a folder a '/' pattern excludes", "[watch]") {
  const PathFilter filter({"*"}, {"archive/old", "tmp/*"});
  CHECK_FALSE(filter.acceptsDir("archive/old"));
  CHECK_FALSE(filter.acceptsFile("archive/old/x.txt"));
  CHECK_FALSE(filter.acceptsFile("archive/old/deeper/y.txt"));
  CHECK_FALSE(filter.acceptsFile("tmp/a/b.txt"));
  CHECK(filter.acceptsFile("archive/older/x.txt"));
  CHECK(filter.acceptsFile("archive/x.txt"));
  CHECK(filter.acceptsDir("archive"));
}
