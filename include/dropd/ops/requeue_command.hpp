#pragma once

// `dropd requeue [--failed] [PATH...]`: lets an operator re-run files after
// fixing the cause of their failure. With --failed, failed sources are moved
// from each pipeline's failed folder back into the watched folder each came from,
// their error records removed and their ledger rows forgotten; without it,
// the ledger rows of the matching paths are forgotten and matching files in
// the watched folders touched, so kept files are sent again. PATHs are
// relative paths (a folder selects everything below it) or absolute paths
// inside a watched or failed folder; none means everything. The file's mtime
// is set to now, so a running daemon sees a new file. Blocking; command line only.

#include <ostream>
#include <span>
#include <string>

#include "dropd/config/config.hpp"

namespace dropd::ops {

[[nodiscard]] int runRequeueCommand(const config::Config& config, bool failed_only,
                                    std::span<const std::string> paths, std::ostream& out,
                                    std::ostream& err);

// `dropd requeue --changed [--dry-run] [PIPELINE]`: re-runs exactly the
// files whose results (in each pipeline's output folder) were all made
// under another prompt version than the config's now
// (pipeline/prompt_version.hpp): a moved source comes back from the done
// folder, a kept one is touched, its ledger rows are forgotten and its
// results of other versions removed (the new answer replaces them). Says how
// many per pipeline before it sends any; --dry-run only says.
[[nodiscard]] int runRequeueChanged(const config::Config& config, const std::string& only_pipeline,
                                    bool dry_run, std::ostream& out, std::ostream& err);

}  // namespace dropd::ops
