#include "dropd/watch/scanner.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using dropd::watch::PathFilter;
using dropd::watch::scanTree;

namespace {

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> sorted(const std::vector<dropd::watch::ScannedFile>& files) {
  std::vector<std::string> v;
  for (const auto& f : files) {
    v.push_back(f.rel);
  }
  return sorted(std::move(v));
}

}  // namespace

TEST_CASE("scanTree lists candidate files and folders to watch", "[watch]") {
  dropd::test::TempDir dir;
  dir.write("a.txt", "a");
  dir.write("sub/b.txt", "b");
  dir.write("sub/deep/c d.txt", "c");
  dir.write("sub/.git/config", "x");
  dir.write("x.part", "x");
  const PathFilter filter({"*"}, {".*", "*.part"});

  SECTION("recursive") {
    const auto out = scanTree({dir.path(), "", true, filter});
    CHECK(sorted(out.files) == std::vector<std::string>{"a.txt", "sub/b.txt", "sub/deep/c d.txt"});
    CHECK(sorted(out.folders) == std::vector<std::string>{"", "sub", "sub/deep"});
    CHECK(out.errors.empty());
    for (const auto& f : out.files) {
      CHECK(f.identity.ino != 0);
      CHECK(f.identity.size == 1);
    }
  }
  SECTION("flat") {
    const auto out = scanTree({dir.path(), "", false, filter});
    CHECK(sorted(out.files) == std::vector<std::string>{"a.txt"});
  }
  SECTION("a subtree only") {
    const auto out = scanTree({dir.path(), "sub/deep", true, filter});
    CHECK(sorted(out.files) == std::vector<std::string>{"sub/deep/c d.txt"});
  }
  SECTION("a missing root is an error naming it") {
    const auto out = scanTree({dir.path() / "nope", "", true, filter});
    CHECK(out.files.empty());
    REQUIRE(out.errors.size() == 1);
    CHECK(out.errors[0].find("nope") != std::string::npos);
  }
}

TEST_CASE("scanChunk hands a tree over in chunks, each file once", "[watch]") {
  dropd::test::TempDir dir;
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    const std::string rel = (i % 3 == 0 ? "sub/" : "") + std::to_string(i) + ".txt";
    dir.write(rel, "x");
    expected.push_back(rel);
  }
  const dropd::watch::ScanRequest req{dir.path(), "", true, PathFilter({"*"}, {})};
  dropd::watch::ScanCursor cursor("");
  std::vector<dropd::watch::ScannedFile> all;
  int chunks = 0;
  while (!cursor.done()) {
    auto out = dropd::watch::scanChunk(req, cursor, 4);
    CHECK(out.files.size() <= 4);
    all.insert(all.end(), out.files.begin(), out.files.end());
    ++chunks;
    SECTION("files removed while the walk goes on are not a problem") {
      for (const auto& f : out.files) {
        std::filesystem::remove(dir.path() / f.rel);  // what dropd does when it moves sources
      }
    }
  }
  CHECK(chunks >= 7);
  CHECK(sorted(all) == sorted(expected));
}
