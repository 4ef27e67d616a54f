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

void scanFolder(const ScanRequest& req, const std::string& rel, ScanResult& out,
                std::vector<std::string>& pending) {
  const std::filesystem::path dir = rel.empty() ? req.root : req.root / rel;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    out.errors.push_back("opendir(" + dir.string() + "): " + std::strerror(errno));
    return;
  }
  out.folders.push_back(rel);
  while (const dirent* entry = ::readdir(handle)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) {
      continue;
    }
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
      (void)file::statFile(dir / entry->d_name, found.identity, ignored);
      out.files.push_back(std::move(found));
    }
  }
  ::closedir(handle);
}

}  // namespace

ScanResult scanTree(const ScanRequest& request) {
  ScanResult out;
  std::vector<std::string> pending{request.start_rel};
  while (!pending.empty()) {
    const std::string rel = std::move(pending.back());
    pending.pop_back();
    scanFolder(request, rel, out, pending);
  }
  return out;
}

}  // namespace dropd::watch
