#include "dropd/file/commit.hpp"

#include <cerrno>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using dropd::file::commitBatch;
using dropd::file::CommitItem;
using dropd::file::Disposal;
namespace fs = std::filesystem;

TEST_CASE("commitBatch writes records, then moves or removes sources", "[file]") {
  dropd::test::TempDir dir;
  const auto a = dir.write("in/sub/a.txt", "A");
  const auto b = dir.write("in/b.txt", "B");
  const auto c = dir.write("in/c.txt", "C");
  std::vector<CommitItem> items = {
      {dir.path() / "out/sub/a.txt.json", "{\"a\":1}", "sub/a.txt", a, Disposal::kMove,
       dir.path() / "done/sub/a.txt"},
      {dir.path() / "out/b.txt.json", "{\"b\":1}", "b.txt", b, Disposal::kDelete, {}},
      {dir.path() / "out/c.txt.json", "{\"c\":1}", "c.txt", c, Disposal::kKeep, {}},
  };
  const auto out = commitBatch(items);
  REQUIRE(out.size() == 3);
  for (const auto& o : out) {
    CHECK(o.record_written);
    CHECK(o.source_disposed);
    CHECK(o.error.empty());
  }
  CHECK(dropd::test::TempDir::read(dir.path() / "out/sub/a.txt.json") == "{\"a\":1}");
  CHECK(dropd::test::TempDir::read(dir.path() / "done/sub/a.txt") == "A");
  CHECK_FALSE(fs::exists(a));
  CHECK_FALSE(fs::exists(b));
  CHECK(fs::exists(c));
  CHECK(out[0].moved_to == dir.path() / "done/sub/a.txt");

  SECTION("no temp file is left behind") {
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
      CHECK(e.path().filename().string().find("dropd-tmp") == std::string::npos);
    }
  }
  SECTION("a move never replaces an earlier source of the same name") {
    const auto again = dir.write("in/sub/a.txt", "A2");
    const auto second = commitBatch({{dir.path() / "out/sub/a.txt.json", "{}", "sub/a.txt", again,
                                      Disposal::kMove, dir.path() / "done/sub/a.txt"}});
    REQUIRE(second[0].source_disposed);
    CHECK(second[0].moved_to == dir.path() / "done/sub/a.txt.1");
    CHECK(dropd::test::TempDir::read(dir.path() / "done/sub/a.txt") == "A");
    CHECK(dropd::test::TempDir::read(dir.path() / "done/sub/a.txt.1") == "A2");
  }
}

TEST_CASE("commitBatch leaves the source alone when its record cannot be written", "[file]") {
  dropd::test::TempDir dir;
  const auto a = dir.write("in/a.txt", "A");
  dir.write("blocker", "a file where a folder should be");
  const auto out = commitBatch({{dir.path() / "blocker/a.txt.json", "{}", "a.txt", a,
                                 Disposal::kMove, dir.path() / "done/a.txt"}});
  CHECK_FALSE(out[0].record_written);
  CHECK_FALSE(out[0].source_disposed);
  CHECK(out[0].error.find("blocker") != std::string::npos);
  CHECK(out[0].error_errno == ENOTDIR);
  CHECK(fs::exists(a));
  CHECK_FALSE(fs::exists(dir.path() / "done/a.txt"));
}

TEST_CASE("commitBatch never replaces a file that is not an earlier record of the source",
          "[file]") {
  dropd::test::TempDir dir;
  const std::string source = R"({"path":"r.txt","size":1,"mtime":"2026-11-24T10:00:00Z"})";
  const std::string mine = R"({"source":)" + source + R"(,"pipeline":"p"})";
  const std::string other = R"({"source":{"path":"r","size":1},"pipeline":"p"})";
  const std::string earlier_version =
      R"({"source":{"path":"r.txt","size":1,"mtime":"2026-11-23T10:00:00Z"},"pipeline":"p"})";
  const auto commitOne = [&](const std::string& record, const std::string& owner) {
    const auto src = dir.write("in/r.txt", "x");
    return commitBatch({{dir.path() / "out/r.txt.json", record, owner, src, Disposal::kKeep, {}}});
  };

  SECTION("an earlier record of the same version of the source is replaced") {
    REQUIRE(commitOne(mine, source)[0].record_written);
    // The same object with its keys in another order is the same owner.
    const auto again =
        commitOne(mine + " ", R"({"mtime":"2026-11-24T10:00:00Z","size":1,"path":"r.txt"})");
    REQUIRE(again[0].record_written);
    CHECK(again[0].placed_at == dir.path() / "out/r.txt.json");
    CHECK(dropd::test::TempDir::read(dir.path() / "out/r.txt.json") == mine + " ");
  }
  SECTION("a user's file of that name is kept and the record gets a suffix") {
    dir.write("out/r.txt.json", "user data");
    const auto out = commitOne(mine, source);
    REQUIRE(out[0].record_written);
    CHECK(out[0].placed_at == dir.path() / "out/r.txt.1.json");
    CHECK(dropd::test::TempDir::read(dir.path() / "out/r.txt.json") == "user data");
  }
  SECTION("the record of another source is kept too") {
    REQUIRE(commitOne(other, R"({"path":"r","size":1})")[0].record_written);
    const auto out = commitOne(mine, source);
    CHECK(out[0].placed_at == dir.path() / "out/r.txt.1.json");
    CHECK(dropd::test::TempDir::read(dir.path() / "out/r.txt.json") == other);
  }
  SECTION("the record of an earlier version of the same path is kept") {
    dir.write("out/r.txt.json", earlier_version);
    const auto out = commitOne(mine, source);
    CHECK(out[0].placed_at == dir.path() / "out/r.txt.1.json");
    CHECK(dropd::test::TempDir::read(dir.path() / "out/r.txt.json") == earlier_version);
  }
}

TEST_CASE("commitBatch runs its hook after records are durable and before sources move", "[file]") {
  dropd::test::TempDir dir;
  const auto a = dir.write("in/a.txt", "A");
  const std::vector<CommitItem> items = {{dir.path() / "out/a.txt.json", "{}", "a.txt", a,
                                          Disposal::kMove, dir.path() / "done/a.txt"}};
  SECTION("the hook sees written records and the sources still in place") {
    bool called = false;
    const auto out = commitBatch(items, [&](const auto& outcomes, std::string&) {
      called = true;
      CHECK(outcomes[0].record_written);
      CHECK(fs::exists(dir.path() / "out/a.txt.json"));
      CHECK(fs::exists(a));
      return true;
    });
    CHECK(called);
    CHECK(out[0].source_disposed);
    CHECK_FALSE(fs::exists(a));
  }
  SECTION("a hook that fails keeps every source") {
    const auto out = commitBatch(items, [](const auto&, std::string& error) {
      error = "ledger: disk full";
      return false;
    });
    CHECK(out[0].record_written);
    CHECK_FALSE(out[0].source_disposed);
    CHECK(out[0].error == "ledger: disk full");
    CHECK(fs::exists(a));
  }
  SECTION("recovery disposes of a source whose record was written before") {
    dir.write("out/a.txt.json", "{}");
    auto again = items;
    again[0].record = "";
    again[0].record_written_before = true;
    const auto out = commitBatch(again);
    CHECK(out[0].record_written);
    CHECK(out[0].source_disposed);
    CHECK(dropd::test::TempDir::read(dir.path() / "out/a.txt.json") == "{}");
    CHECK(fs::exists(dir.path() / "done/a.txt"));
  }
  SECTION("a recovery whose source was moved meanwhile has nothing left to do") {
    dir.write("out/a.txt.json", "{}");
    fs::remove(a);  // the job's own move got there first
    auto again = items;
    again[0].record = "";
    again[0].record_written_before = true;
    const auto out = commitBatch(again);
    CHECK(out[0].source_disposed);
    CHECK(out[0].error.empty());
    CHECK(out[0].moved_to.empty());
  }
  SECTION("a normal job whose source is gone still says so") {
    fs::remove(a);
    const auto out = commitBatch(items);
    CHECK(out[0].record_written);
    CHECK_FALSE(out[0].source_disposed);
    CHECK(out[0].error.find("a.txt") != std::string::npos);
  }
}

namespace {

dropd::file::FileIdentity identityOf(const fs::path& path) {
  dropd::file::FileIdentity id;
  std::string error;
  REQUIRE(dropd::file::statFile(path, id, error) == dropd::file::ReadStatus::kOk);
  return id;
}

}  // namespace

TEST_CASE("commitBatch disposes of only the version of the source that was read", "[file]") {
  dropd::test::TempDir dir;
  const auto src = dir.write("in/a.txt", "version 1");
  const dropd::file::FileIdentity read = identityOf(src);
  const auto disposal = GENERATE(Disposal::kMove, Disposal::kDelete, Disposal::kKeep);
  CommitItem item{dir.path() / "out/a.txt.json", "{}", "a.txt", src, disposal,
                  dir.path() / "done/a.txt"};
  item.identity = read;

  SECTION("saved again in place while in flight") {
    dir.write("in/a.txt", "version 2, longer");
    const auto out = commitBatch({item});
    CHECK(out[0].record_written);
    CHECK(out[0].source_changed);
    CHECK(out[0].source_disposed);
    CHECK(out[0].moved_to.empty());
    CHECK(dropd::test::TempDir::read(src) == "version 2, longer");
    CHECK_FALSE(fs::exists(dir.path() / "done/a.txt"));
  }
  SECTION("replaced by a rename while in flight (an editor's save)") {
    const auto next = dir.write("in/.a.txt.swp", "version 2");
    fs::rename(next, src);
    const auto out = commitBatch({item});
    CHECK(out[0].source_changed);
    CHECK(dropd::test::TempDir::read(src) == "version 2");
    CHECK_FALSE(fs::exists(dir.path() / "done/a.txt"));
  }
  SECTION("unchanged: disposed of as asked") {
    const auto out = commitBatch({item});
    CHECK_FALSE(out[0].source_changed);
    CHECK(out[0].source_disposed);
    CHECK(fs::exists(src) == (disposal == Disposal::kKeep));
    CHECK(fs::exists(dir.path() / "done/a.txt") == (disposal == Disposal::kMove));
  }
  SECTION("gone meanwhile: nothing to do; a source to move says so") {
    fs::remove(src);
    const auto out = commitBatch({item});
    CHECK(out[0].record_written);
    CHECK_FALSE(out[0].source_changed);
    CHECK(out[0].source_disposed == (disposal != Disposal::kMove));
    CHECK(out[0].error.empty() == (disposal != Disposal::kMove));
  }
}

TEST_CASE("commitBatch handles source names of up to NAME_MAX bytes", "[file]") {
  dropd::test::TempDir dir;
  for (const std::size_t len : {229UL, 230UL, 231UL, 244UL, 250UL, 255UL}) {
    const std::string name(len, static_cast<char>('a' + len % 26));
    const auto src = dir.write("in/" + name, "x");
    CommitItem item{dir.path() / "out" / (name + ".error.json"),
                    "{}",
                    name,
                    src,
                    Disposal::kMove,
                    dir.path() / "done" / name};
    item.identity = identityOf(src);
    const auto out = commitBatch({item});
    INFO("name of " << len << " bytes: " << out[0].error);
    REQUIRE(out[0].record_written);
    REQUIRE(out[0].source_disposed);
    CHECK(out[0].placed_at.filename().string().size() <= 255);
    CHECK(fs::exists(out[0].placed_at));
    CHECK(out[0].moved_to == dir.path() / "done" / name);

    // The same name again: the moved source and the record both take a suffix.
    const auto again = dir.write("in/" + name, "y");
    item.identity = identityOf(again);
    const auto second = commitBatch({item});
    REQUIRE(second[0].record_written);
    REQUIRE(second[0].source_disposed);
    CHECK(second[0].placed_at != out[0].placed_at);
    CHECK(second[0].moved_to != out[0].moved_to);
    CHECK(second[0].moved_to.filename().string().size() <= 255);
    CHECK(dropd::test::TempDir::read(second[0].moved_to) == "y");
  }
}

TEST_CASE("records of two versions of one path are staged in temps of their own", "[file]") {
  // A fleet's instances may stage records of one path at once (the file
  // saved again while in flight: one holds the old version, one the new):
  // neither may write or rename the other's temp. One version's records
  // share a temp: a holder taking over a killed one's file writes over it.
  dropd::test::TempDir dir;
  CommitItem item;
  item.record_path = dir.path() / "out" / "a.txt.json";
  item.record = "{}\n";
  item.source = dir.write("in/a.txt", "a");
  item.identity = {.dev = 1, .ino = 7, .size = 0, .mtime = {}};
  CommitItem later = item;
  later.identity.size = 15;
  const auto temps = [&] {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir.path() / "out")) {
      n += e.path().filename().string().ends_with(".dropd-tmp") ? 1 : 0;
    }
    return n;
  };
  REQUIRE(dropd::file::stageRecords({item})[0].record_staged);
  REQUIRE(dropd::file::stageRecords({item})[0].record_staged);
  CHECK(temps() == 1);
  REQUIRE(dropd::file::stageRecords({later})[0].record_staged);
  CHECK(temps() == 2);
}

TEST_CASE("takeBackRecord removes this record only, never one that replaced it", "[file]") {
  dropd::test::TempDir dir;
  const fs::path source = dir.write("in/a.txt", "a");
  dropd::file::CommitItem item;
  item.record_path = dir.path() / "out" / "a.txt.json";
  item.record = "{\"mine\":true}\n";
  item.source = source;
  std::vector<dropd::file::CommitItem> items{item};
  auto outcomes = dropd::file::stageRecords(items);
  dropd::file::placeStagedRecords(items, outcomes);
  REQUIRE(outcomes[0].record_written);
  REQUIRE(outcomes[0].record_ino != 0);
  std::string error;

  SECTION("still ours: gone") {
    CHECK(dropd::file::takeBackRecord(outcomes[0], error));
    CHECK_FALSE(fs::exists(item.record_path));
  }
  SECTION("replaced by the holder's: it stays, whole") {
    const fs::path holders = dir.write("out/.holder", "{\"holder\":true}\n");
    fs::rename(holders, item.record_path);
    CHECK(dropd::file::takeBackRecord(outcomes[0], error));
    CHECK(dropd::test::TempDir::read(item.record_path) == "{\"holder\":true}\n");
  }
  SECTION("already gone: nothing to do") {
    fs::remove(item.record_path);
    CHECK(dropd::file::takeBackRecord(outcomes[0], error));
  }
  CHECK(outcomes[0].placed_at.empty());
  CHECK(error.empty());
  for (const auto& e : fs::directory_iterator(dir.path() / "out")) {
    CHECK(e.path().filename().string().find("takeback") == std::string::npos);
  }
}
