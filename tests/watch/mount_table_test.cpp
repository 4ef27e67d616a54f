#include "dropd/watch/mount_table.hpp"

#include <algorithm>
#include <random>
#include <string>

#include <catch2/catch.hpp>

using dropd::watch::FileSystemKind;
using dropd::watch::MountBelow;
using dropd::watch::mountsOf;
using dropd::watch::parseMountInfo;

namespace {

// A host with a local disk at /srv/in (a mount exactly at the watched
// root), NFS and sshfs below it, a bind mount of a local folder and one of
// an NFS subfolder, NFS inside NFS, and an NFS share at /srv/inbox, whose
// name starts like /srv/in's.
constexpr const char* kHost =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 8:17 / /srv/in rw,relatime shared:5 - ext4 /dev/sdb1 rw\n"
    "31 30 0:50 / /srv/in/share rw,relatime shared:6 - nfs4 nas:/export rw,vers=4.2\n"
    "32 22 0:51 / /srv/inbox rw - nfs nas:/other rw\n"
    "33 31 0:52 / /srv/in/share/deep rw - cifs //nas/x rw\n"
    "34 30 0:53 / /srv/in/my\\040docs rw,nosuid - fuse.sshfs me@host: rw,user_id=0\n"
    "35 30 8:1 /data/x /srv/in/bound rw - ext4 /dev/sda1 rw\n"
    "36 30 0:50 /export/sub /srv/in/nfsbind rw - nfs4 nas:/export/sub rw\n"
    "37 22 0:60 / /tmp rw master:2 propagate_from:1 - tmpfs tmpfs rw\n";

std::vector<std::string> rels(const std::vector<MountBelow>& mounts) {
  std::vector<std::string> out;
  for (const MountBelow& m : mounts) {
    out.push_back(m.rel);
  }
  return out;
}

}  // namespace

TEST_CASE("parseMountInfo reads proc(5)'s mountinfo lines", "[watch]") {
  SECTION("fields, optional fields and escapes") {
    const auto table = parseMountInfo(kHost);
    REQUIRE(table.entries.size() == 9);
    CHECK(table.rejected == 0);
    const auto& nfs = table.entries[2];
    CHECK(nfs.id == 31);
    CHECK(nfs.parent_id == 30);
    CHECK(nfs.root == "/");
    CHECK(nfs.mount_point == "/srv/in/share");
    CHECK(nfs.fs_type == "nfs4");
    CHECK(nfs.source == "nas:/export");
    CHECK(table.entries[5].mount_point == "/srv/in/my docs");
    CHECK(table.entries[6].root == "/data/x");
    CHECK(table.entries[8].fs_type == "tmpfs");  // after two optional fields
    CHECK(table.entries[0].fs_type == "ext4");   // after one
  }
  SECTION("every escape the kernel writes, and backslashes it does not") {
    const auto table = parseMountInfo(
        "1 0 0:1 / /a\\011b\\012c\\134d\\040e rw - ext4 x rw\n"
        "2 1 0:2 / /odd\\9\\40\\400\\ rw - ext4 x\\040y rw\n");
    REQUIRE(table.entries.size() == 2);
    CHECK(table.entries[0].mount_point == "/a\tb\nc\\d e");
    CHECK(table.entries[1].mount_point == "/odd\\9\\40\\400\\");
    CHECK(table.entries[1].source == "x y");
  }
  SECTION("no optional fields, no source: still an entry") {
    const auto table = parseMountInfo("7 1 0:9 / /mnt rw - nfs");
    REQUIRE(table.entries.size() == 1);
    CHECK(table.entries[0].fs_type == "nfs");
    CHECK(table.entries[0].source.empty());
  }
  SECTION("lines that are not entries are counted; blank ones are skipped") {
    const auto table = parseMountInfo(
        "\n"
        "   \n"
        "garbage\n"
        "x 1 0:1 / /a rw - ext4 s rw\n"         // id not a number
        "1 -2 0:1 / /a rw - ext4 s rw\n"        // parent not a number
        "1 0 0:1 / a rw - ext4 s rw\n"          // relative mount point
        "1 0 0:1 / /a rw shared:1 ext4 s rw\n"  // no separator
        "1 0 0:1 / /a rw -\n"                   // nothing after it
        "1 0 0:1 / - rw - ext4 s rw\n"          // "-" as the mount point
        "1 0 0:1 / /a/ rw - ext4 s rw\n"        // not normal: a trailing '/'
        "1 0 0:1 / /a//b rw - ext4 s rw\n"      // an empty name
        "1 0 0:1 / /a/../b rw - ext4 s rw\n"    // ".."
        "1 0 0:1 / /ok rw - ext4 s rw");        // no final newline
    REQUIRE(table.entries.size() == 1);
    CHECK(table.entries[0].mount_point == "/ok");
    CHECK(table.rejected == 10);
  }
  SECTION("empty text") {
    const auto table = parseMountInfo("");
    CHECK(table.entries.empty());
    CHECK(table.rejected == 0);
  }
}

TEST_CASE("mountsOf names a root's file system and the untrusted mounts below it", "[watch]") {
  const auto host = parseMountInfo(kHost);

  SECTION("a local root with NFS, sshfs and a bound NFS folder below it") {
    for (const char* root : {"/srv/in", "/srv/in/", "/srv/in//"}) {
      INFO(root);
      const auto m = mountsOf(root, host);
      CHECK(m.fs_type == "ext4");
      CHECK(m.mount_point == "/srv/in");  // a mount exactly at the root is the root's own
      CHECK(m.kind == FileSystemKind::kLocal);
      // share/deep is walked with share; the bind of a local folder is local.
      CHECK(m.untrusted == std::vector<MountBelow>{{"my docs", "fuse.sshfs", FileSystemKind::kFuse},
                                                   {"nfsbind", "nfs4", FileSystemKind::kNetwork},
                                                   {"share", "nfs4", FileSystemKind::kNetwork}});
    }
  }
  SECTION("a root that only shares a prefix with another mount") {
    const auto m = mountsOf("/srv/inbox", host);
    CHECK(m.fs_type == "nfs");
    CHECK(m.kind == FileSystemKind::kNetwork);
    CHECK(m.untrusted.empty());
    const auto in = mountsOf("/srv/in", host);
    CHECK(in.untrusted.size() == 3);  // /srv/inbox is not below /srv/in
  }
  SECTION("a root above several mounts") {
    const auto m = mountsOf("/srv", host);
    CHECK(m.fs_type == "ext4");
    CHECK(m.mount_point == "/");
    CHECK(rels(m.untrusted) ==
          std::vector<std::string>{"in/my docs", "in/nfsbind", "in/share", "inbox"});
    CHECK(
        rels(mountsOf("/", host).untrusted) ==
        std::vector<std::string>{"srv/in/my docs", "srv/in/nfsbind", "srv/in/share", "srv/inbox"});
  }
  SECTION("a root inside a network mount, or inside a folder that does not exist") {
    CHECK(mountsOf("/srv/in/share/x/y", host).fs_type == "nfs4");
    const auto deep = mountsOf("/srv/in/share/deep", host);
    CHECK(deep.fs_type == "cifs");
    CHECK(deep.mount_point == "/srv/in/share/deep");
    CHECK(mountsOf("/srv/in/nope", host).mount_point == "/srv/in");
  }
  SECTION("a relative root, or an empty table, knows nothing") {
    const auto relative = mountsOf("srv/in", host);
    CHECK(relative.fs_type.empty());
    CHECK(relative.untrusted.empty());
    const auto empty = mountsOf("/srv/in", parseMountInfo(""));
    CHECK(empty.fs_type.empty());
    CHECK(empty.kind == FileSystemKind::kLocal);
    CHECK(empty.untrusted.empty());
  }
}

TEST_CASE("mountsOf ignores mounts that another mount hides", "[watch]") {
  std::string text = kHost;

  SECTION("a mount stacked at the root hides what was mounted on the one below") {
    text += "40 30 0:70 / /srv/in rw - nfs4 nas:/top rw\n";
    const auto m = mountsOf("/srv/in", parseMountInfo(text));
    CHECK(m.fs_type == "nfs4");
    CHECK(m.kind == FileSystemKind::kNetwork);
    CHECK(m.untrusted.empty());
  }
  SECTION("a local mount stacked on a share makes it local, and hides its submounts") {
    text += "41 31 0:71 / /srv/in/share rw - tmpfs tmpfs rw\n";
    const auto m = mountsOf("/srv/in", parseMountInfo(text));
    CHECK(rels(m.untrusted) == std::vector<std::string>{"my docs", "nfsbind"});
    CHECK(mountsOf("/srv/in/share/deep", parseMountInfo(text)).fs_type == "tmpfs");
  }
  SECTION("a mount over a folder on the way hides a share mounted further down") {
    text +=
        "50 30 0:80 / /srv/in/a rw - ext4 /dev/sdc1 rw\n"
        "51 50 0:81 / /srv/in/a/b/c rw - nfs4 nas:/c rw\n";
    CHECK(rels(mountsOf("/srv/in", parseMountInfo(text)).untrusted) ==
          std::vector<std::string>{"a/b/c", "my docs", "nfsbind", "share"});
    text += "52 50 0:82 / /srv/in/a/b rw - tmpfs tmpfs rw\n";
    CHECK(rels(mountsOf("/srv/in", parseMountInfo(text)).untrusted) ==
          std::vector<std::string>{"my docs", "nfsbind", "share"});
  }
  SECTION("a table whose parents form a loop still gives an answer") {
    const auto m = mountsOf("/x/y", parseMountInfo("1 2 0:1 / /x rw - nfs a rw\n"
                                                   "2 1 0:2 / /x rw - ext4 b rw\n"
                                                   "3 3 0:3 / /x/y/z rw - nfs c rw\n"));
    CHECK_FALSE(m.fs_type.empty());
  }
}

TEST_CASE("parseMountInfo and mountsOf hold their invariants on any text", "[watch]") {
  // What a fuzzer would check, over seeded random text made of the
  // characters that matter to the format.
  std::mt19937 rng(20261125);
  const std::string alphabet = "0123456789 /-\\\n:abfnrstuxe.";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const std::size_t length = rng() % 200;
    for (std::size_t i = 0; i < length; ++i) {
      text.push_back(alphabet[rng() % alphabet.size()]);
    }
    if (round % 2 == 0) {
      text = std::string(kHost) + text;  // a valid table with noise after it
    }
    INFO(text);
    const auto table = parseMountInfo(text);
    std::size_t lines = 0;
    for (std::size_t start = 0; start < text.size();) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      lines += text.find_first_not_of(' ', start) < end ? 1 : 0;
      start = end + 1;
    }
    REQUIRE(table.entries.size() + table.rejected == lines);
    for (const auto& entry : table.entries) {
      REQUIRE(entry.mount_point.starts_with('/'));
      REQUIRE_FALSE(entry.fs_type.empty());
    }
    for (const char* root : {"/", "/srv/in", "/a", "/srv/in/share"}) {
      const auto m = mountsOf(root, table);
      for (std::size_t i = 0; i < m.untrusted.size(); ++i) {
        REQUIRE_FALSE(m.untrusted[i].rel.empty());
        REQUIRE(m.untrusted[i].kind != FileSystemKind::kLocal);
        REQUIRE_FALSE(m.untrusted[i].rel.starts_with('/'));
        for (std::size_t j = 0; j < i; ++j) {  // sorted, outermost only
          REQUIRE(m.untrusted[j].rel < m.untrusted[i].rel);
          REQUIRE_FALSE(m.untrusted[i].rel.starts_with(m.untrusted[j].rel + "/"));
        }
      }
    }
  }
}
