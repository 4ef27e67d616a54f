#include "dropd/watch/file_system.hpp"

#include <algorithm>
#include <array>

namespace dropd::watch {
namespace {

using namespace std::string_view_literals;

// Where other hosts (or other nodes of a cluster) write: inotify on this
// host sees none of it. Linux's own type names, as mount(8) takes them.
constexpr std::array kNetworkTypes = {
    "nfs"sv,       "nfs4"sv,   "cifs"sv, "smb3"sv,  "smbfs"sv, "9p"sv,     "ceph"sv,  "afs"sv,
    "glusterfs"sv, "lustre"sv, "gfs2"sv, "ocfs2"sv, "gpfs"sv,  "beegfs"sv, "davfs"sv, "ncpfs"sv,
};

}  // namespace

FileSystemKind fileSystemKind(std::int64_t f_type) {
  switch (static_cast<std::uint32_t>(f_type)) {
    case 0x65735546:  // FUSE_SUPER_MAGIC (fuse and fuseblk)
      return FileSystemKind::kFuse;
    case 0x6969:      // NFS_SUPER_MAGIC
    case 0x517B:      // SMB_SUPER_MAGIC
    case 0xFE534D42:  // SMB2_MAGIC_NUMBER
    case 0xFF534D42:  // CIFS_MAGIC_NUMBER
    case 0x01021997:  // V9FS_MAGIC
    case 0x00C36400:  // CEPH_SUPER_MAGIC
    case 0x5346414F:  // AFS_SUPER_MAGIC (OpenAFS)
    case 0x6B414653:  // AFS_FS_MAGIC (kernel kAFS)
      return FileSystemKind::kNetwork;
    default:
      return FileSystemKind::kLocal;
  }
}

std::string_view fileSystemName(std::int64_t f_type) {
  switch (static_cast<std::uint32_t>(f_type)) {
    case 0x65735546:
      return "fuse";
    case 0x6969:
      return "nfs";
    case 0x517B:
      return "smb";
    case 0xFE534D42:
      return "smb2";
    case 0xFF534D42:
      return "cifs";
    case 0x01021997:
      return "9p";
    case 0x00C36400:
      return "ceph";
    case 0x5346414F:
    case 0x6B414653:
      return "afs";
    default:
      return "";
  }
}

FileSystemKind fileSystemKindByName(std::string_view fs_type) {
  // "fuse" and "fuseblk" with an optional ".subtype" (fuse.sshfs, fuseblk.ntfs...).
  for (const std::string_view fuse : {"fuse"sv, "fuseblk"sv}) {
    if (fs_type == fuse || (fs_type.size() > fuse.size() && fs_type.starts_with(fuse) &&
                            fs_type[fuse.size()] == '.')) {
      return FileSystemKind::kFuse;
    }
  }
  if (fs_type == "overlay") {
    return FileSystemKind::kOverlay;
  }
  const bool network =
      std::find(kNetworkTypes.begin(), kNetworkTypes.end(), fs_type) != kNetworkTypes.end();
  return network ? FileSystemKind::kNetwork : FileSystemKind::kLocal;
}

}  // namespace dropd::watch
