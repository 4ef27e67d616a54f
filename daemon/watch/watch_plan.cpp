#include "dropd/watch/watch_plan.hpp"

#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace dropd::watch {
namespace {

// The whole file: mountinfo is generated as it is read, so its size is not
// known up front.
bool readWhole(const std::filesystem::path& path, std::string& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "open(" + path.string() + "): " + std::strerror(errno);
    return false;
  }
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = "read(" + path.string() + "): " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

bool pollsRootOf(const RootMounts& mounts) {
  switch (mounts.kind) {
    case FileSystemKind::kNetwork:
    case FileSystemKind::kFuse:
      return true;
    case FileSystemKind::kOverlay:
      return mounts.mount_point != "/";
    case FileSystemKind::kLocal:
      return false;
  }
  return false;
}

}  // namespace

WatchPlan planWatch(const RootMounts& mounts, std::optional<std::int64_t> statfs_type) {
  WatchPlan plan;
  const bool statfs_untrusted =
      statfs_type && fileSystemKind(*statfs_type) != FileSystemKind::kLocal;
  plan.poll_root = statfs_untrusted || pollsRootOf(mounts);
  plan.root_fs = mounts.fs_type;
  if (statfs_type &&
      (plan.root_fs.empty() || (statfs_untrusted && mounts.kind == FileSystemKind::kLocal))) {
    plan.root_fs = fileSystemName(*statfs_type);  // statfs is the truth if they disagree
  }
  if (!plan.poll_root) {
    plan.polled_mounts = mounts.untrusted;
  }
  return plan;
}

WatchPlan lookUpWatchPlan(const std::filesystem::path& root,
                          const std::filesystem::path& mountinfo) {
  std::optional<std::int64_t> statfs_type;
  // A root that does not exist yet fails: mountinfo alone decides, and the
  // rescans look again once it is there.
  if (struct statfs fs{}; ::statfs(root.c_str(), &fs) == 0) {
    statfs_type = static_cast<std::int64_t>(fs.f_type);
  }
  std::error_code ec;
  std::filesystem::path resolved = std::filesystem::canonical(root, ec);
  if (ec) {
    resolved = root.lexically_normal();
  }
  std::string text;
  std::string error;
  if (!readWhole(mountinfo, text, error)) {
    WatchPlan plan = planWatch(RootMounts{}, statfs_type);
    plan.error = std::move(error);
    return plan;
  }
  return planWatch(mountsOf(resolved.string(), parseMountInfo(text)), statfs_type);
}

}  // namespace dropd::watch
