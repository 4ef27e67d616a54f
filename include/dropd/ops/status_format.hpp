#pragma once

// The pure parts of `dropd status` (status_command.hpp): what it prints for
// a /status document, a /files answer and an /events event, and how a FILE
// argument becomes the /files query. No I/O; any thread. Every function
// takes whatever the server sent: a field that is missing or of the wrong
// type prints as "-", never throws.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/config/config.hpp"

namespace dropd::ops {

// The table `dropd status` prints: the instance, one row per pipeline, one
// per endpoint, then the recent failures (oldest first).
[[nodiscard]] std::string formatStatusTable(const nlohmann::json& status);

// One /files answer: the sentence, then the details, one per line.
[[nodiscard]] std::string formatFileAnswer(const nlohmann::json& file);

// One /events event as `dropd status --follow` prints it, without newline:
//   "15:01:02.345 docs a.txt queued -> reading (settled)"
//   "15:01:02.345 endpoint local ok -> paused (401 invalid api key)"
// `event` is the SSE event name ("job", "endpoint", "reset"); `data` its
// data. Unknown events print their name and data; data that is not JSON
// prints as is.
[[nodiscard]] std::string formatEventLine(std::string_view event, std::string_view data);

// What `dropd status FILE` asks about: /files?path=REL[&pipeline=NAME].
struct FileQuery {
  std::string pipeline;  // empty: every pipeline is asked
  std::string rel;       // relative to the watched root, record prefix included
};

// FILE as given on the command line. An absolute path, or a relative one
// joined to `cwd`, that lies inside a pipeline's watch root (lexically, no
// symlinks followed) names that pipeline and the rel below the root (with
// the root's record prefix). Any other relative FILE is taken as a rel for
// every pipeline. nullopt: an absolute path outside every watched root.
[[nodiscard]] std::optional<FileQuery> resolveStatusFile(const config::Config& cfg,
                                                         std::string_view arg,
                                                         const std::filesystem::path& cwd);

// "/files?path=...&pipeline=..." with every byte outside RFC 3986's
// unreserved set (and '/') percent-encoded, so that any file name survives.
[[nodiscard]] std::string filesTarget(const FileQuery& query);
[[nodiscard]] std::string percentEncode(std::string_view bytes);

}  // namespace dropd::ops
