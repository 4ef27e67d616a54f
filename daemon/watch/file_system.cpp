#include "dropd/watch/file_system.hpp"

namespace dropd::watch {

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

}  // namespace dropd::watch
