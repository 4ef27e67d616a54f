#pragma once

// How to watch one root (issue #5): inotify sees no writes made by other
// hosts on network and FUSE file systems, so a root on one is polled whole,
// and a root on a local disk is watched with inotify except for the network,
// FUSE and overlay mounts below it, which are polled. planWatch() is pure;
// lookUpWatchPlan() blocks (realpath, statfs, reading mountinfo, any of
// which can hang on a dead NFS server): threadpool only.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dropd/watch/mount_table.hpp"

namespace dropd::watch {

struct WatchPlan {
  bool poll_root = false;  // the root's own file system cannot be trusted to inotify
  std::string root_fs;     // its type for the log: mountinfo's name, else statfs's; may be ""
  std::vector<MountBelow> polled_mounts;  // below the root; empty when poll_root
  std::string error;  // why mountinfo could not be read (statfs alone decided); "" if it was

  bool operator==(const WatchPlan&) const = default;
};

// `statfs_type` is statfs(2)'s f_type for the root, if statfs worked. The
// root is polled when statfs or mountinfo says network or FUSE, or when
// mountinfo says overlay mounted anywhere but "/": an overlay at "/" is a
// container's own root file system, written through the overlay, which
// inotify sees; an overlay elsewhere merges folders that may be written
// to behind it.
[[nodiscard]] WatchPlan planWatch(const RootMounts& mounts,
                                  std::optional<std::int64_t> statfs_type);

// statfs on the root and mountsOf() its canonical path (or its lexically
// normal path while it does not exist) in `mountinfo`, then planWatch().
[[nodiscard]] WatchPlan lookUpWatchPlan(
    const std::filesystem::path& root,
    const std::filesystem::path& mountinfo = "/proc/self/mountinfo");

}  // namespace dropd::watch
