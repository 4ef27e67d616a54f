#pragma once

// `dropd stats FILE...`: each file's stats as one JSON line on stdout, computed
// by the pipeline's own function (file::StatsAccumulator), read in chunks so
// a large file is never held whole. Blocking; for the command line only.

#include <ostream>
#include <span>
#include <string>

namespace dropd::ops {

// Returns kExitOk, or kExitRuntime if any file could not be read (its error
// goes to `err`, the other files are still printed).
[[nodiscard]] int runStatsCommand(std::span<const std::string> paths, std::ostream& out,
                                  std::ostream& err);

}  // namespace dropd::ops
