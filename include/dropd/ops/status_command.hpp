#pragma once

// `dropd status [--json] [--follow] [FILE...]`: asks the running daemon's
// status server (the config's `status.listen`, with its token) and prints
// what it says (docs/operations.md, "dropd status"). Blocking; for the
// command line only.
//
// Exit codes: 0 ok; 1 the daemon could not be asked ("dropd is not running
// (nothing listens on 127.0.0.1:9464)", a refused token, a bad answer) or a
// FILE it does not know; 2 no `status:` in the config, or a FILE outside
// every watched folder.

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "dropd/config/config.hpp"

namespace dropd::ops {

struct StatusCommandOptions {
  bool json = false;               // print /status (or /files) as the server sent it
  bool follow = false;             // stream /events as lines until the daemon stops
  std::vector<std::string> files;  // ask /files about each
  std::filesystem::path cwd;       // relative FILEs are resolved against it
};

[[nodiscard]] int runStatusCommand(const config::Config& cfg, const StatusCommandOptions& options,
                                   std::ostream& out, std::ostream& err);

}  // namespace dropd::ops
