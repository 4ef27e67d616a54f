// parseMountInfo(), mountsOf() and planWatch() on any mountinfo text: every
// non-empty line is an entry or rejected, every entry's mount point is a
// normal absolute path, the root's own mount covers the root, the untrusted
// mounts are below it, sorted and not local, and a polled root polls no
// separate mounts.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dropd/watch/mount_table.hpp"
#include "dropd/watch/watch_plan.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

namespace watch = dropd::watch;

std::size_t countNonBlankLines(std::string_view text) {
  std::size_t count = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    count += text.substr(start, end - start).find_first_not_of(' ') != std::string_view::npos;
    start = end + 1;
  }
  return count;
}

bool isNormalAbsolute(std::string_view path) {
  if (path == "/") {
    return true;
  }
  if (!path.starts_with('/') || path.ends_with('/')) {
    return false;
  }
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view name = path.substr(start, end - start);
    if (name.empty() || name == "." || name == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

// "/" covers everything absolute; "/in" covers "/in" and "/in/x", not "/inbox".
bool covers(std::string_view mount_point, std::string_view path) {
  return mount_point == "/" || path == mount_point ||
         (path.starts_with(mount_point) && path[mount_point.size()] == '/');
}

void checkRoot(std::string_view root, const watch::MountTable& table,
               std::optional<std::int64_t> statfs_type) {
  const watch::RootMounts mounts = watch::mountsOf(root, table);
  while (root.size() > 1 && root.ends_with('/')) {
    root.remove_suffix(1);
  }
  if (!mounts.mount_point.empty()) {
    DROPD_FUZZ_CHECK(covers(mounts.mount_point, root));
  }
  for (std::size_t i = 0; i < mounts.untrusted.size(); ++i) {
    const watch::MountBelow& below = mounts.untrusted[i];
    DROPD_FUZZ_CHECK(!below.rel.empty() && !below.rel.starts_with('/'));
    DROPD_FUZZ_CHECK(below.kind != watch::FileSystemKind::kLocal);
    DROPD_FUZZ_CHECK(i == 0 || mounts.untrusted[i - 1].rel < below.rel);
  }
  const watch::WatchPlan plan = watch::planWatch(mounts, statfs_type);
  DROPD_FUZZ_CHECK(plan.poll_root ? plan.polled_mounts.empty()
                                  : plan.polled_mounts == mounts.untrusted);
  DROPD_FUZZ_CHECK(mounts.kind == watch::FileSystemKind::kLocal ||
                   mounts.kind == watch::FileSystemKind::kOverlay || plan.poll_root);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::uint8_t pick = input.takeByte();
  const std::optional<std::int64_t> statfs_type =
      (pick & 1) != 0 ? std::optional(input.takeInt<std::int64_t>()) : std::nullopt;
  const std::string_view own_root = input.takeShortString();
  const std::string_view text = input.takeRest();

  const watch::MountTable table = watch::parseMountInfo(text);
  DROPD_FUZZ_CHECK(table.entries.size() + table.rejected == countNonBlankLines(text));
  for (const watch::MountEntry& entry : table.entries) {
    DROPD_FUZZ_CHECK(isNormalAbsolute(entry.mount_point));
    DROPD_FUZZ_CHECK(!entry.fs_type.empty());
  }
  checkRoot(own_root, table, statfs_type);
  checkRoot("/", table, statfs_type);
  if (!table.entries.empty()) {
    // Roots at and just below a mount point reach the stacking and hiding rules.
    const std::string& point = table.entries[pick % table.entries.size()].mount_point;
    checkRoot(point, table, statfs_type);
    checkRoot(point + "/sub", table, statfs_type);
  }
  return 0;
}
