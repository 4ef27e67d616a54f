#pragma once

// `dropd extract [--json] [--max-pages N] [--max-chars N] [--ocr] FILE...`:
// what dropd would send for each file, printed by dropd-extract in its
// command mode (docs/extract.md). dropd itself links no document library:
// it runs the dropd-extract beside its own executable (/proc/self/exe),
// else the one on PATH.

#include <string>
#include <vector>

namespace dropd::ops {

struct ExtractCommandOptions {
  bool json = false;
  bool ocr = false;
  unsigned max_pages = 0;
  unsigned long long max_chars = 0;
  std::vector<std::string> files;
};

// The arguments dropd-extract gets (argv[0] excluded).
[[nodiscard]] std::vector<std::string> extractArguments(const ExtractCommandOptions& options);

// Replaces this process with dropd-extract, so its exit code is the
// command's. Returns only when that fails: kExitRuntime, the reason on stderr.
[[nodiscard]] int runExtractCommand(const ExtractCommandOptions& options);

}  // namespace dropd::ops
