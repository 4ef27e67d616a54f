#pragma once

// A full walk of one watched root: every candidate file (PathFilter) and
// every folder to watch. Events are hints, the directory is the truth: this
// runs at start, after an inotify overflow, for a folder that appears, and on
// the rescan timer. Blocking (readdir on a large tree): threadpool only.

#include <filesystem>
#include <string>
#include <vector>

#include "dropd/file/reader.hpp"
#include "dropd/watch/path_filter.hpp"

namespace dropd::watch {

struct ScanRequest {
  std::filesystem::path root;  // absolute
  std::string start_rel;       // "" for the whole root, else a folder below it
  bool recursive = true;
  PathFilter filter;
};

struct ScannedFile {
  std::string rel;              // relative to root
  file::FileIdentity identity;  // from lstat at scan time (zero if it vanished meanwhile)
};

struct ScanResult {
  std::vector<ScannedFile> files;    // in no particular order
  std::vector<std::string> folders;  // relative to root, "" for the root itself
  std::vector<std::string> errors;   // "opendir(PATH): reason", one per folder that failed
};

[[nodiscard]] ScanResult scanTree(const ScanRequest& request);

}  // namespace dropd::watch
