#include "dropd/watch/inotify_watcher.hpp"

#include <cstdio>
#include <vector>

#include <catch2/catch.hpp>

#include "support/loop_fixture.hpp"
#include "support/temp_dir.hpp"

using dropd::watch::InotifyWatcher;
using Kind = InotifyWatcher::EventKind;

TEST_CASE("InotifyWatcher reports finished files, new folders and lost folders", "[watch]") {
  dropd::test::TempDir dir;
  dropd::test::LoopFixture loop;
  std::vector<InotifyWatcher::Event> events;
  auto watcher = InotifyWatcher::create(
      loop.get(), dir.path(), [&](const InotifyWatcher::Event& e) { events.push_back(e); });
  REQUIRE(watcher);
  REQUIRE((*watcher)->watchFolder(""));
  const auto has = [&](Kind kind, const std::string& rel) {
    for (const auto& e : events) {
      if (e.kind == kind && e.rel == rel) {
        return true;
      }
    }
    return false;
  };

  SECTION("a file closed after writing") {
    dir.write("a.txt", "hello");
    loop.runUntil([&] { return has(Kind::kFileReady, "a.txt"); });
  }
  SECTION("a file renamed in (the atomic-writer pattern)") {
    std::filesystem::create_directory(dir.path() / ".stage");
    const auto staged = dir.write(".stage/b.txt", "x");
    std::filesystem::rename(staged, dir.path() / "b.txt");
    loop.runUntil([&] { return has(Kind::kFileReady, "b.txt"); });
  }
  SECTION("a new folder, then a file inside once it is watched") {
    std::filesystem::create_directory(dir.path() / "sub");
    loop.runUntil([&] { return has(Kind::kFolderAppeared, "sub"); });
    REQUIRE((*watcher)->watchFolder("sub"));
    dir.write("sub/c.txt", "c");
    loop.runUntil([&] { return has(Kind::kFileReady, "sub/c.txt"); });
    CHECK((*watcher)->watchCount() == 2);
    std::filesystem::remove_all(dir.path() / "sub");
    loop.runUntil([&] { return has(Kind::kFolderLost, "sub"); });
  }
  watcher->reset();
}

TEST_CASE("InotifyWatcher names the folder it cannot watch", "[watch]") {
  dropd::test::TempDir dir;
  dropd::test::LoopFixture loop;
  auto watcher = InotifyWatcher::create(loop.get(), dir.path(), [](const auto&) {});
  REQUIRE(watcher);
  const auto status = (*watcher)->watchFolder("missing");
  REQUIRE_FALSE(status);
  CHECK(status.error().message().find("missing") != std::string::npos);
  watcher->reset();
}
