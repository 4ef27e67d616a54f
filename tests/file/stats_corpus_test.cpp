// Checks computeStats() against the reference tools on a corpus made by
// ../shared/peers/gen_corpus.py (200 small and 40 medium files, seed 7, about
// 5 MB; ~15 s on 2 cores): wc -c, wc -l, LC_ALL=C.UTF-8 wc -m and wc -w,
// Python's len(bytes.split()) and sha256sum. Skipped with a warning when the
// generator or the tools are absent.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/file/stats.hpp"

namespace fs = std::filesystem;

namespace {

std::string runCommand(const std::string& command) {
  std::string out;
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  pclose(pipe);
  return out;
}

// Parses lines of `N1 N2 ... NAME` (the last field is the file name).
std::map<std::string, std::vector<std::string>> fieldsByName(const std::string& text) {
  std::map<std::string, std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::vector<std::string> row{std::istream_iterator<std::string>(fields), {}};
    if (row.size() >= 2) {
      const std::string name = row.back();
      row.pop_back();
      rows[name] = row;
    }
  }
  return rows;
}

// GNU wc -w agrees with `words` unless a token lacks a printable character
// (control bytes) or the text has a Unicode space (docs/stats.md).
bool wcWordsShouldAgree(const std::string& data) {
  for (const char c : data) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && !(b >= '\t' && b <= '\r')) || b == 0x7F) {
      return false;
    }
  }
  for (const char* space :
       {"\xC2\xA0", "\xC2\x85", "\xE1\x9A\x80", "\xE2\x80", "\xE2\x81\x9F", "\xE3\x80\x80"}) {
    if (data.find(space) != std::string::npos) {
      return false;  // U+2000..U+203F is over-broad on purpose: skip, never miss
    }
  }
  return true;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("Stats agree with wc, Python and sha256sum on the peers' corpus", "[file][corpus]") {
  const fs::path generator =
      fs::path(DROPD_SOURCE_DIR) / ".." / "shared" / "peers" / "gen_corpus.py";
  if (!fs::exists(generator) ||
      !runCommand("command -v python3 && command -v wc && command -v sha256sum && echo ok")
           .ends_with("ok\n")) {
    WARN("skipped: " << generator.string() << " or python3/wc/sha256sum missing");
    return;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("dropd-stats-corpus-" + std::to_string(getpid()));
  const std::string gen = "python3 '" + generator.string() + "' '" + dir.string() +
                          "' --small 200 --medium 40 --large 0 --seed 7 && cd '" + dir.string() +
                          "' && echo ok";
  REQUIRE(runCommand(gen) == "ok\n");
  const std::string cd = "cd '" + dir.string() + "' && ";
  const auto wc = fieldsByName(runCommand(cd + "LC_ALL=C.UTF-8 wc -lwmc small/* medium/*"));
  const auto sha =
      fieldsByName(runCommand(cd + "sha256sum small/* medium/* | awk '{print $1, $2}'"));
  const auto py = fieldsByName(runCommand(cd + "python3 -c 'import sys\nfor p in sys.argv[1:]: "
                                               "print(len(open(p,\"rb\").read().split()), p)' "
                                               "small/* medium/*"));
  std::size_t checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    const std::string name = fs::relative(entry.path(), dir).string();
    const std::string data = readFile(entry.path());
    const auto st =
        dropd::file::computeStats(std::as_bytes(std::span<const char>(data.data(), data.size())));
    INFO(name);
    REQUIRE(wc.count(name) == 1);
    const auto& w = wc.at(name);  // lines words chars bytes
    CHECK(std::to_string(st.lines) == w[0]);
    CHECK(std::to_string(st.chars) == w[2]);
    CHECK(std::to_string(st.bytes) == w[3]);
    if (wcWordsShouldAgree(data)) {
      CHECK(std::to_string(st.words) == w[1]);
    }
    CHECK(std::to_string(st.words) == py.at(name).at(0));
    CHECK(st.sha256 == sha.at(name).at(0));
    CHECK(st.utf8_valid);
    ++checked;
  }
  CHECK(checked == 240);
  fs::remove_all(dir);
}
