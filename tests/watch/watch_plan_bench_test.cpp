// Hidden benchmarks of the watch module's pure functions: reading a large
// mountinfo (hosts with many container mounts), planning a root's watch and
// filtering paths. Run with `test_watch "[bench]"`.

#include <string>

#include <catch2/catch.hpp>

#include "dropd/watch/mount_table.hpp"
#include "dropd/watch/path_filter.hpp"
#include "dropd/watch/watch_plan.hpp"

namespace watch = dropd::watch;

TEST_CASE("mountinfo parsing, watch planning and path filtering", "[.][bench]") {
  std::string mountinfo = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
  for (int i = 0; i < 500; ++i) {
    const std::string id = std::to_string(100 + i);
    mountinfo += id + " 22 0:" + id + " / /srv/in/m" + id + " rw - " +
                 (i % 3 == 0 ? "nfs4 server:/export" : "tmpfs none") + " rw\n";
  }
  const watch::MountTable table = watch::parseMountInfo(mountinfo);
  const watch::PathFilter filter({"*"}, {".*", "*~", "*.tmp", "*.part", "*.swp", "@eaDir"});

  BENCHMARK("parseMountInfo, 501 lines") { return watch::parseMountInfo(mountinfo); };
  BENCHMARK("mountsOf + planWatch") {
    return watch::planWatch(watch::mountsOf("/srv/in", table), std::nullopt);
  };
  BENCHMARK("PathFilter::acceptsFile, 4 levels") {
    return filter.acceptsFile("projects/2026/reports/quarterly summary.txt");
  };
}
