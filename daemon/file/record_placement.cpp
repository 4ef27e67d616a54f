#include "dropd/file/record_placement.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "dropd/file/file_name.hpp"

namespace dropd::file {
namespace {

namespace fs = std::filesystem;

// Records are small; a file bigger than this is not one of ours.
constexpr std::streamsize kMaxRecordBytes = 16 << 20;

// The n-th name a record wanted at `wanted` may take: "x.json", "x.1.json",
// ... (".error.json" likewise), each fitted to NAME_MAX (file_name.hpp).
fs::path candidate(const fs::path& wanted, int n) {
  const std::string name = wanted.filename().native();
  const std::string tag = n == 0 ? std::string() : "." + std::to_string(n);
  for (const std::string_view ext : {".error.json", ".json"}) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
      const std::string_view stem = std::string_view(name).substr(0, name.size() - ext.size());
      return wanted.parent_path() / fitName(stem, tag + std::string(ext));
    }
  }
  return wanted.parent_path() / fitName(name, tag);
}

Placement failed(const char* call, const fs::path& path, int err) {
  return {false, {}, err, std::string(call) + "(" + path.string() + "): " + std::strerror(err)};
}

}  // namespace

bool isRecordOf(const fs::path& path, std::string_view owner) {
  const auto owner_source = nlohmann::json::parse(owner, nullptr, false);
  if (owner_source.is_discarded() || !owner_source.is_object()) {
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text;
  text.resize(static_cast<std::size_t>(kMaxRecordBytes) + 1);
  in.read(text.data(), kMaxRecordBytes + 1);
  if (in.gcount() > kMaxRecordBytes) {
    return false;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("pipeline") ||
      !doc.contains("source") || !doc["source"].is_object()) {
    return false;
  }
  return doc["source"] == owner_source;  // objects compare key by key, in any order
}

Placement placeRecord(const fs::path& temp, const fs::path& wanted, std::string_view owner) {
  for (int n = 0; n < 10000; ++n) {
    const fs::path target = candidate(wanted, n);
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
      return {true, target, 0, {}};
    }
    if (errno != EEXIST) {
      return failed("rename", temp, errno);
    }
    if (isRecordOf(target, owner)) {
      if (::rename(temp.c_str(), target.c_str()) != 0) {
        return failed("rename", temp, errno);
      }
      return {true, target, 0, {}};
    }
  }
  return failed("rename", wanted, EEXIST);
}

}  // namespace dropd::file
