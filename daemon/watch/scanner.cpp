#include "dropd/watch/scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace dropd::watch {
namespace {

std::string join(const std::string& rel, const char* name) {
  return rel.empty() ? std::string(name) : rel + "/" + name;
}

// d_type saves a stat per entry on most file systems; DT_UNKNOWN falls back.
unsigned char entryType(int dir_fd, const dirent* entry) {
  if (entry->d_type != DT_UNKNOWN) {
    return entry->d_type;
  }
  struct stat st {};
  if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return DT_UNKNOWN;
  }
  return S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
}

bool opened(const ScanRequest& req, const std::string& rel, ScanResult& out, DIR*& handle) {
  const std::filesystem::path dir = rel.empty() ? req.root : req.root / rel;
  handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    out.errors.push_back("opendir(" + dir.string() + "): " + std::strerror(errno));
    return false;
  }
  if (!req.folders_first) {
    out.folders.push_back(rel);
  }
  return true;
}

// One entry of the open folder: a folder to walk later or a candidate file.
void take(const ScanRequest& req, const std::string& rel, DIR* handle, const dirent* entry,
          ScanResult& out, std::vector<std::string>& pending) {
  const std::string child = join(rel, entry->d_name);
  const unsigned char type = entryType(::dirfd(handle), entry);
  if (type == DT_DIR) {
    if (req.recursive && req.filter.acceptsDir(child)) {
      pending.push_back(child);
    }
  } else if (type != DT_UNKNOWN && req.filter.acceptsFile(child)) {
    // Symlinks and other non-regular files are listed too: the reader
    // refuses them with a reason, so nothing in an inbox goes unexplained.
    // One lstat per candidate: the pipeline compares it with the ledger,
    // so files already finished are skipped without being opened.
    ScannedFile found{child, {}};
    std::string ignored;
    (void)file::statFile(req.root / child, found.identity, ignored);
    out.files.push_back(std::move(found));
  }
}

}  // namespace

ScanResult scanChunk(const ScanRequest& request, ScanCursor& cursor, std::size_t max_files) {
  ScanResult out;
  if (!request.folders_first) {
    cursor.pending_.insert(cursor.pending_.end(), std::make_move_iterator(cursor.found_.begin()),
                           std::make_move_iterator(cursor.found_.end()));
    cursor.found_.clear();
  }
  // folders_first: only folders handed back by an earlier chunk are opened.
  std::vector<std::string>& found = request.folders_first ? cursor.found_ : cursor.pending_;
  while (out.files.size() < max_files && (cursor.open_ || !cursor.pending_.empty())) {
    if (!cursor.open_) {
      cursor.open_rel_ = std::move(cursor.pending_.back());
      cursor.pending_.pop_back();
      DIR* handle = nullptr;
      if (!opened(request, cursor.open_rel_, out, handle)) {
        continue;
      }
      cursor.open_.reset(handle);
    }
    const dirent* entry = ::readdir(cursor.open_.get());
    if (entry == nullptr) {
      cursor.open_.reset();
      continue;
    }
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      take(request, cursor.open_rel_, cursor.open_.get(), entry, out, found);
    }
  }
  if (request.folders_first) {
    out.folders = cursor.found_;  // the caller watches them before the next chunk opens them
    cursor.pending_.insert(cursor.pending_.end(), std::make_move_iterator(cursor.found_.begin()),
                           std::make_move_iterator(cursor.found_.end()));
    cursor.found_.clear();
  }
  return out;
}

ScanResult scanTree(const ScanRequest& request) {
  ScanCursor cursor(request.start_rel);
  return scanChunk(request, cursor, static_cast<std::size_t>(-1));
}

}  // namespace dropd::watch
