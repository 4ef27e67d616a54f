#pragma once

// dropd's command line (INTERFACE.md): parses argv, sets up logging, and runs
// the chosen command. Returns the process exit code:
// 0 ok, 1 runtime failure, 2 usage or config error, 3 --once finished with failures.

namespace dropd::ops {

enum ExitCode : int { kExitOk = 0, kExitRuntime = 1, kExitUsage = 2, kExitFailures = 3 };

[[nodiscard]] int runCli(int argc, char** argv);

}  // namespace dropd::ops
