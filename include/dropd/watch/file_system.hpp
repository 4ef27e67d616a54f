#pragma once

// Which file systems dropd cannot trust: inotify sees no writes made by
// other hosts on network and FUSE file systems (so their folders are
// polled), and SQLite's locks and WAL shared memory are unsafe there (so
// the ledger refuses them). Pure functions, any thread.

#include <cstdint>
#include <string_view>

namespace dropd::watch {

enum class FileSystemKind {
  kLocal,    // local disks, tmpfs, anything not listed below
  kNetwork,  // NFS, SMB/CIFS, 9p, Ceph, AFS: byte-range locks and mmap are not safe
  kFuse,     // FUSE (sshfs, s3fs, ntfs-3g...): locking depends on the daemon behind it
  // overlayfs: safe for SQLite, but a change made to one of its layers
  // outside the overlay never reaches inotify on the merged folder. Only
  // fileSystemKindByName() says so: statfs cannot tell an overlay that is
  // a container's own root (written through the overlay) from any other.
  kOverlay,
};

// Classifies statfs(2)'s f_type. Only the low 32 bits are compared, because
// f_type is a signed 32-bit word on some ABIs (sign-extending CIFS's
// 0xFF534D42).
[[nodiscard]] FileSystemKind fileSystemKind(std::int64_t f_type);
// "nfs", "smb2", "fuse"... for the kinds above; "" for kLocal.
[[nodiscard]] std::string_view fileSystemName(std::int64_t f_type);

// Classifies a file system type as /proc/self/mountinfo names it ("nfs4",
// "cifs", "fuse.sshfs", "overlay"...). Exact names only: any other name,
// "" included, is kLocal.
[[nodiscard]] FileSystemKind fileSystemKindByName(std::string_view fs_type);

}  // namespace dropd::watch
