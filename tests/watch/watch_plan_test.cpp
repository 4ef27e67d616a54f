#include "dropd/watch/watch_plan.hpp"

#include <fstream>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using dropd::watch::FileSystemKind;
using dropd::watch::lookUpWatchPlan;
using dropd::watch::MountBelow;
using dropd::watch::planWatch;
using dropd::watch::RootMounts;

namespace {

constexpr std::int64_t kExt4 = 0xEF53;
constexpr std::int64_t kFuseMagic = 0x65735546;
constexpr std::int64_t kOverlayMagic = 0x794C7630;

}  // namespace

TEST_CASE("planWatch polls a root on an untrusted file system, else the mounts below it",
          "[watch]") {
  const std::vector<MountBelow> below{{"share", "nfs4", FileSystemKind::kNetwork}};

  SECTION("a local root: inotify, and the mounts below are polled") {
    const auto plan = planWatch({"ext4", "/", FileSystemKind::kLocal, below}, kExt4);
    CHECK_FALSE(plan.poll_root);
    CHECK(plan.root_fs == "ext4");
    CHECK(plan.polled_mounts == below);
    CHECK(plan.error.empty());
  }
  SECTION("a root on NFS by mountinfo: polled whole, so nothing below is listed") {
    const auto plan = planWatch({"nfs4", "/srv/in", FileSystemKind::kNetwork, below}, std::nullopt);
    CHECK(plan.poll_root);
    CHECK(plan.root_fs == "nfs4");
    CHECK(plan.polled_mounts.empty());
  }
  SECTION("statfs says FUSE where mountinfo says local: statfs wins, and names it") {
    const auto plan = planWatch({"ext4", "/", FileSystemKind::kLocal, below}, kFuseMagic);
    CHECK(plan.poll_root);
    CHECK(plan.root_fs == "fuse");
  }
  SECTION("mountinfo's more precise name is kept when both agree") {
    const auto plan = planWatch({"fuse.sshfs", "/srv/in", FileSystemKind::kFuse, {}}, kFuseMagic);
    CHECK(plan.poll_root);
    CHECK(plan.root_fs == "fuse.sshfs");
  }
  SECTION("overlay: a container's own root is watched, any other overlay is polled") {
    CHECK_FALSE(planWatch({"overlay", "/", FileSystemKind::kOverlay, {}}, kOverlayMagic).poll_root);
    CHECK(planWatch({"overlay", "/srv/in", FileSystemKind::kOverlay, {}}, kOverlayMagic).poll_root);
  }
  SECTION("nothing known (no mountinfo, no statfs): inotify") {
    const auto plan = planWatch(RootMounts{}, std::nullopt);
    CHECK_FALSE(plan.poll_root);
    CHECK(plan.root_fs.empty());
    CHECK(plan.polled_mounts.empty());
  }
}

TEST_CASE("lookUpWatchPlan reads the root's mounts from a mountinfo file", "[watch]") {
  dropd::test::TempDir dir;
  const auto root = std::filesystem::canonical(dir.path()) / "inbox";
  std::filesystem::create_directories(root / "share");
  const auto mountinfo = dir.path() / "mountinfo";
  std::ofstream(mountinfo) << "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                           << "60 22 0:90 / " << (root / "share").string()
                           << " rw - fuse.sshfs me@host: rw\n";

  SECTION("a mount below the root, found through a path that is not canonical") {
    const auto plan = lookUpWatchPlan(dir.path() / "." / "inbox" / "", mountinfo);
    CHECK_FALSE(plan.poll_root);  // the test folder is on a local disk
    CHECK(plan.polled_mounts ==
          std::vector<MountBelow>{{"share", "fuse.sshfs", FileSystemKind::kFuse}});
    CHECK(plan.error.empty());
  }
  SECTION("a root that does not exist yet is looked up by its path") {
    const auto plan = lookUpWatchPlan(root / "share" / "later", mountinfo);
    CHECK(plan.poll_root);
    CHECK(plan.root_fs == "fuse.sshfs");
  }
  SECTION("an unreadable mountinfo is reported; statfs alone decides") {
    const auto plan = lookUpWatchPlan(root, dir.path() / "missing");
    CHECK_FALSE(plan.poll_root);
    CHECK(plan.polled_mounts.empty());
    CHECK(plan.error.find("missing") != std::string::npos);
  }
  SECTION("this process's own mountinfo parses") {
    const auto plan = lookUpWatchPlan(root);
    CHECK(plan.error.empty());
    CHECK_FALSE(plan.root_fs.empty());
  }
}
