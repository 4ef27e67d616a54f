#include "dropd/file/reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using dropd::file::ReadRequest;
using dropd::file::ReadStatus;
using dropd::file::readWhole;

namespace {

ReadRequest requestFor(const std::filesystem::path& path, std::uint64_t max_bytes = 1 << 20) {
  // Settled means: not modified after a moment well in the future.
  return {path, max_bytes, std::chrono::system_clock::now() + std::chrono::hours(1)};
}

}  // namespace

TEST_CASE("readWhole returns content, stats and identity of a settled file", "[file]") {
  dropd::test::TempDir dir;
  const std::string text = "one two\nthree\n";
  const auto path = dir.write("a.txt", text);
  const auto out = readWhole(requestFor(path));
  REQUIRE(out.status == ReadStatus::kOk);
  CHECK(out.content == text);
  CHECK(out.stats.bytes == text.size());
  CHECK(out.stats.words == 3);
  CHECK(out.stats.lines == 2);
  CHECK(out.identity.size == text.size());
  CHECK(out.identity.ino != 0);

  SECTION("an empty file is read as empty") {
    const auto empty = readWhole(requestFor(dir.write("e.txt", "")));
    REQUIRE(empty.status == ReadStatus::kOk);
    CHECK(empty.content.empty());
    CHECK(empty.stats.bytes == 0);
  }
  SECTION("a file larger than several chunks keeps every byte") {
    std::string big(3 * 256 * 1024 + 17, 'x');
    big[big.size() - 1] = '\n';
    const auto got = readWhole(requestFor(dir.write("big.txt", big)));
    REQUIRE(got.status == ReadStatus::kOk);
    CHECK(got.content == big);
    CHECK(got.stats.lines == 1);
  }
}

TEST_CASE("readWhole refuses what it must not read", "[file]") {
  dropd::test::TempDir dir;
  const auto path = dir.write("a.txt", "hello");

  SECTION("a missing file has vanished") {
    CHECK(readWhole(requestFor(dir.path() / "nope")).status == ReadStatus::kVanished);
  }
  SECTION("a file over the limit is too large and not read") {
    const auto out = readWhole(requestFor(path, 4));
    CHECK(out.status == ReadStatus::kTooLarge);
    CHECK(out.content.empty());
    CHECK(out.identity.size == 5);
  }
  SECTION("a file modified after the settle mark is unsettled") {
    auto req = requestFor(path);
    req.settled_before = std::chrono::system_clock::now() - std::chrono::hours(1);
    CHECK(readWhole(req).status == ReadStatus::kUnsettled);
  }
  SECTION("a polled file that is not as the earlier look saw it is unsettled") {
    auto req = requestFor(path);
    req.seen = readWhole(requestFor(path)).identity;
    CHECK(readWhole(req).status == ReadStatus::kOk);  // unchanged since: finished
    dir.write("a.txt", "hello, longer now");          // its mtime may not move (coarse clocks)
    CHECK(readWhole(req).status == ReadStatus::kUnsettled);
  }
  SECTION("a symlink is never followed") {
    const auto link = dir.path() / "link.txt";
    std::filesystem::create_symlink(path, link);
    CHECK(readWhole(requestFor(link)).status == ReadStatus::kNotRegular);
  }
  SECTION("a folder and a fifo are not regular files") {
    std::filesystem::create_directory(dir.path() / "sub");
    CHECK(readWhole(requestFor(dir.path() / "sub")).status == ReadStatus::kNotRegular);
    REQUIRE(::mkfifo((dir.path() / "fifo").c_str(), 0600) == 0);
    CHECK(readWhole(requestFor(dir.path() / "fifo")).status == ReadStatus::kNotRegular);
  }
  SECTION("an unreadable file is an error naming the call and path") {
    if (::geteuid() == 0) {
      return;  // root reads anything; the permission check cannot fail
    }
    std::filesystem::permissions(path, std::filesystem::perms::none);
    const auto out = readWhole(requestFor(path));
    CHECK(out.status == ReadStatus::kError);
    CHECK(out.error.find("open(") == 0);
  }
}

// Property: whatever the size and wherever the first NUL byte is, reading
// without keep_binary measures the same stats as reading with it, and keeps
// the bytes exactly when the file has no NUL byte.
TEST_CASE("readWhole without keep_binary drops a binary file's bytes, not its stats", "[file]") {
  dropd::test::TempDir dir;
  constexpr std::size_t kChunk = 256 * 1024;
  std::mt19937 rng(11);
  const std::size_t sizes[] = {0, 1, 100, kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 17};
  int n = 0;
  for (const std::size_t size : sizes) {
    for (const int where : {-1, 0, 1, 2, 3}) {  // no NUL, first byte, middle, last chunk, last byte
      std::string data(size, 'a');
      for (auto& c : data) {
        c = static_cast<char>('a' + rng() % 26);
      }
      std::size_t nul = std::string::npos;
      if (where >= 0 && size > 0) {
        nul = where == 0   ? 0
              : where == 1 ? size / 2
              : where == 2 ? size - size % kChunk / 2 - 1
                           : size - 1;
        nul = std::min(nul, size - 1);
        data[nul] = '\0';
      }
      const auto path = dir.write("f" + std::to_string(n++), data);
      const auto kept = readWhole(requestFor(path, 1 << 22));
      auto request = requestFor(path, 1 << 22);
      request.keep_binary = false;
      const auto dropped = readWhole(request);
      INFO("size " << size << ", NUL at " << nul);
      REQUIRE(kept.status == ReadStatus::kOk);
      REQUIRE(dropped.status == ReadStatus::kOk);
      CHECK(kept.content == data);
      CHECK(dropped.stats.sha256 == kept.stats.sha256);
      CHECK(dropped.stats.bytes == size);
      CHECK(dropped.stats.nul_bytes == kept.stats.nul_bytes);
      CHECK(dropped.stats.chars == kept.stats.chars);
      CHECK(dropped.content == (nul == std::string::npos ? data : std::string()));
    }
  }
}
