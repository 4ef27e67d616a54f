#pragma once

// The mounts a process sees, from /proc/self/mountinfo (proc_pid_mountinfo(5)),
// and what they mean for one watched root: which file system the root itself
// is on, and which mounts below it inotify cannot be trusted on (network,
// FUSE, overlay), so the pipeline polls them instead. Pure functions, any
// thread; reading the file is the caller's job (watch_plan.hpp).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/watch/file_system.hpp"

namespace dropd::watch {

// One line of mountinfo:
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
// with the kernel's octal escapes (\040 for a space, \011, \012, \134)
// decoded in the path fields.
struct MountEntry {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;  // the mount this one sits on (or hides, at the same point)
  std::string root;             // the folder of its file system mounted here ("/" but for binds)
  std::string mount_point;      // absolute, in this process's mount namespace
  std::string fs_type;          // "ext4", "nfs4", "fuse.sshfs"...
  std::string source;           // "/dev/sda1", "server:/export", "none"...

  bool operator==(const MountEntry&) const = default;
};

struct MountTable {
  std::vector<MountEntry> entries;  // in the file's order
  std::size_t rejected = 0;         // non-empty lines that are not a mount entry
};

// Every non-empty line is either an entry or counted in `rejected`, so
// entries.size() + rejected == the number of non-empty lines. A line is
// rejected when its IDs are not numbers, its mount point is not a normal
// absolute path ("/a/b": no empty, "." or ".." name, no trailing '/'), or
// it has no " - " separator or no type after it.
[[nodiscard]] MountTable parseMountInfo(std::string_view text);

// A mount below a watched root that inotify cannot be trusted on.
struct MountBelow {
  std::string rel;      // its mount point relative to the root, '/'-separated
  std::string fs_type;  // as mountinfo names it
  FileSystemKind kind = FileSystemKind::kLocal;

  bool operator==(const MountBelow&) const = default;
};

struct RootMounts {
  // The visible mount the root is on: the deepest mount point that is the
  // root or a folder above it. Empty when no entry covers the root.
  std::string fs_type;
  std::string mount_point;
  FileSystemKind kind = FileSystemKind::kLocal;
  // Visible mounts strictly below the root whose kind is not kLocal,
  // outermost only (a mount inside one of these is walked with it), sorted
  // by rel.
  std::vector<MountBelow> untrusted;
};

// `root` is an absolute, canonical path (no "..", ".", "//" or symlinks;
// trailing slashes are ignored). "/in" never covers "/inbox". A mount that
// is hidden (another mount stacked at the same point, or over a folder on
// its way) is ignored. A relative root gives an empty result.
[[nodiscard]] RootMounts mountsOf(std::string_view root, const MountTable& table);

}  // namespace dropd::watch
