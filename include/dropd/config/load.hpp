#pragma once

// Reading and validating a config file. Startup and reload only (it blocks
// on file I/O and throws); any thread, no shared state.

#include <filesystem>
#include <string>
#include <string_view>

#include "dropd/config/config.hpp"
#include "dropd/config/config_error.hpp"

namespace dropd::config {

// Reads, parses and checks the whole file. Relative paths in it are resolved
// against the current working directory (docs/config.md says why). Throws
// ConfigError holding every problem found, or nothing.
[[nodiscard]] Config loadConfigFile(const std::filesystem::path& path);

// The same from text; `name_for_messages` is the file name diagnostics carry.
// Relative paths are resolved against `base_dir`, or the current working
// directory when it is empty.
[[nodiscard]] Config loadConfigString(std::string_view yaml, std::string_view name_for_messages,
                                      const std::filesystem::path& base_dir = {});

// "config OK: N pipelines, M endpoints" (INTERFACE.md, --check-config).
[[nodiscard]] std::string describeSummary(const Config& config);

}  // namespace dropd::config
