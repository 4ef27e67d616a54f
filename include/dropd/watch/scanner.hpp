#pragma once

// A full walk of one watched root: every candidate file (PathFilter) and
// every folder to watch. Events are hints, the directory is the truth: this
// runs at start, after an inotify overflow, for a folder that appears, and on
// the rescan timer. Blocking (readdir on a large tree): threadpool only.

#include <dirent.h>

#include <filesystem>
#include <memory>
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
  // Each folder is handed back in one chunk's `folders` and listed only by a
  // later chunk, so the caller can watch it in between: a file created in it
  // after the watch raises an event, one created before is listed. Costs
  // about one chunk per level of the tree. Off: folders are listed at once.
  bool folders_first = false;
};

struct ScannedFile {
  std::string rel;              // relative to root
  file::FileIdentity identity;  // from lstat at scan time (zero if it vanished meanwhile)
};

struct ScanResult {
  std::vector<ScannedFile> files;  // in no particular order
  // Relative to root, "" for the root itself: with folders_first, those
  // found (to be watched before a later chunk lists them), else those listed.
  std::vector<std::string> folders;
  std::vector<std::string> errors;  // "opendir(PATH): reason", one per folder that failed
};

// Where an unfinished walk stands: folders still to read and the one open
// now. The open folder stays open between chunks, so entries are neither
// skipped nor repeated while dropd moves files out of it (readdir's promise
// for one open stream). Move-only; used by one pool thread at a time.
class ScanCursor {
 public:
  explicit ScanCursor(std::string start_rel)
      : start_rel_(start_rel), found_{std::move(start_rel)} {}
  [[nodiscard]] bool done() const { return pending_.empty() && found_.empty() && !open_; }
  // Where the walk began ("" for the whole root). Never changes, so the
  // loop thread may read it while a chunk runs on the pool.
  [[nodiscard]] const std::string& startRel() const { return start_rel_; }

 private:
  friend ScanResult scanChunk(const ScanRequest& request, ScanCursor& cursor,
                              std::size_t max_files);
  struct DirCloser {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
  };
  const std::string start_rel_;
  std::vector<std::string> pending_;  // folders handed back, not opened yet
  std::vector<std::string> found_;    // folders not handed back yet (folders_first)
  std::string open_rel_;
  std::unique_ptr<DIR, DirCloser> open_;
};

// Continues the walk until `max_files` candidates are found or it is done,
// so a huge inbox is handed over in chunks and memory does not grow with it.
[[nodiscard]] ScanResult scanChunk(const ScanRequest& request, ScanCursor& cursor,
                                   std::size_t max_files);

// The whole walk at once (tests, small trees).
[[nodiscard]] ScanResult scanTree(const ScanRequest& request);

}  // namespace dropd::watch
