#pragma once

// Creates the daemon's logger. main() (through the CLI) calls this once and
// passes the logger to every module; modules never use spdlog's globals.
//
// Three output shapes, all on stderr:
//  - text:    "2026-11-24T19:03:06.123Z info  pipeline.done file=\"a.txt\" ms=12"
//  - journal: "<6>pipeline.done file=\"a.txt\" ms=12" when stderr is the journal
//             (JOURNAL_STREAM names it), so journald keeps levels and adds its own time
//  - json:    {"ts":"...","level":"info","event":"pipeline.done","msg":"pipeline.done file=..."}

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "dropd/config/secret_mask.hpp"

namespace dropd::ops {

enum class LogFormat { kText, kJson };

struct LogOptions {
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kText;
  bool journal = false;  // set by stderrIsJournal()
  // Every line passes it before it is formatted (secret_mask.hpp); it may
  // grow later (a reload adds secrets). Null: nothing to mask.
  std::shared_ptr<const config::SecretMask> mask;
};

// True when stderr is connected to journald: $JOURNAL_STREAM holds the
// "device:inode" of our stderr (systemd.exec(5)).
[[nodiscard]] bool stderrIsJournal();

// Parses "trace|debug|info|warn|error"; false if the name is unknown.
[[nodiscard]] bool parseLogLevel(std::string_view name, spdlog::level::level_enum& level);

// The logger writes synchronously to stderr; it is shared by the loop thread
// only (threadpool work never logs), so no locking is needed.
[[nodiscard]] std::shared_ptr<spdlog::logger> makeLogger(const LogOptions& options);

// The same, writing to `out` (tests pass a tmpfile()).
[[nodiscard]] std::shared_ptr<spdlog::logger> makeLoggerTo(const LogOptions& options, FILE* out);

}  // namespace dropd::ops
