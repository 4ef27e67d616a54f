#include "dropd/watch/file_system.hpp"

#include <catch2/catch.hpp>

using dropd::watch::FileSystemKind;
using dropd::watch::fileSystemKind;
using dropd::watch::fileSystemKindByName;

TEST_CASE("fileSystemKindByName classifies mountinfo's type names", "[watch]") {
  SECTION("network and cluster file systems") {
    for (const char* name : {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs",
                             "afs", "lustre", "gfs2", "ocfs2"}) {
      INFO(name);
      CHECK(fileSystemKindByName(name) == FileSystemKind::kNetwork);
    }
  }
  SECTION("FUSE with or without a subtype") {
    for (const char* name : {"fuse", "fuseblk", "fuse.sshfs", "fuse.glusterfs", "fuseblk.ntfs"}) {
      INFO(name);
      CHECK(fileSystemKindByName(name) == FileSystemKind::kFuse);
    }
  }
  SECTION("overlay is its own kind") {
    CHECK(fileSystemKindByName("overlay") == FileSystemKind::kOverlay);
  }
  SECTION("local disks, pseudo file systems and look-alikes are local") {
    for (const char* name : {"ext4", "xfs", "btrfs", "tmpfs", "proc", "fusectl", "nfsd", "fusefoo",
                             "overlayfs2", "NFS", "nfs ", "", "-"}) {
      INFO(name);
      CHECK(fileSystemKindByName(name) == FileSystemKind::kLocal);
    }
  }
}

TEST_CASE("fileSystemKind from statfs never says overlay", "[watch]") {
  // The ledger accepts a state_dir on overlayfs; only mountinfo's name and
  // mount point tell a container's root from an overlay worth polling.
  CHECK(fileSystemKind(0x794C7630) == FileSystemKind::kLocal);
  CHECK(fileSystemKind(0x65735546) == FileSystemKind::kFuse);
  CHECK(fileSystemKind(0x6969) == FileSystemKind::kNetwork);
}
