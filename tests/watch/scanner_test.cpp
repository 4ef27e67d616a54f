#include "dropd/watch/scanner.hpp"

#include <algorithm>
#include <map>

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

TEST_CASE("scanChunk with folders_first lists a folder only after handing it back", "[watch]") {
  // The pipeline watches each folder a chunk hands back before it asks for
  // the next chunk, so this order is what keeps a file written during the
  // walk from falling between the listing and the watch.
  dropd::test::TempDir dir;
  std::vector<std::string> expected;
  const std::vector<std::string> folders = {"a", "a/b", "a/b/c", "d", "d/e", "f"};
  for (std::size_t i = 0; i < 40; ++i) {
    const std::string folder = i % 7 == 6 ? "" : folders[i % 7] + "/";
    expected.push_back(folder + std::to_string(i) + ".txt");
    dir.write(expected.back(), "x");
  }
  std::filesystem::create_directories(dir.path() / "empty/leaf");
  const dropd::watch::ScanRequest req{dir.path(), "", true, PathFilter({"*"}, {}), true};
  const std::size_t max_files = GENERATE(3, 1000);
  dropd::watch::ScanCursor cursor("");
  std::map<std::string, int> handed_back;  // folder -> chunk that handed it back
  std::vector<dropd::watch::ScannedFile> all;
  int chunk = 0;
  while (!cursor.done()) {
    const auto out = dropd::watch::scanChunk(req, cursor, max_files);
    if (chunk == 0) {
      CHECK(out.files.empty());  // the start folder is handed back before it is listed
      CHECK(out.folders == std::vector<std::string>{""});
    }
    for (const auto& folder : out.folders) {
      CHECK(handed_back.emplace(folder, chunk).second);  // once each
    }
    for (const auto& f : out.files) {
      const auto slash = f.rel.rfind('/');
      const std::string parent = slash == std::string::npos ? "" : f.rel.substr(0, slash);
      INFO(f.rel << " listed in chunk " << chunk);
      REQUIRE(handed_back.count(parent) == 1);
      CHECK(handed_back[parent] < chunk);
    }
    all.insert(all.end(), out.files.begin(), out.files.end());
    ++chunk;
    REQUIRE(chunk < 100);
  }
  CHECK(sorted(all) == sorted(expected));
  CHECK(handed_back.size() == folders.size() + 3);  // + the root, empty, empty/leaf
  if (max_files == 1000) {
    CHECK(chunk == 5);  // one per level of the tree, plus the root's hand-back
  }
}
