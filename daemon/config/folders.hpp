#pragma once

// Folders of a config compared the way the kernel will see them, for the
// checks across keys (validate.cpp, feed_loops.cpp). Startup only: it looks
// at the file system to resolve symlinks.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "dropd/config/config.hpp"

namespace dropd::config::detail {

// A folder as written (absolute, lexically normal) and with the symlinks of
// its existing part resolved, so two spellings of one folder compare equal.
struct Spelling {
  std::filesystem::path lexical;
  std::filesystem::path resolved;
};

[[nodiscard]] Spelling spellingOf(const std::filesystem::path& path);

// True when `inner` is `outer` itself or lies below it, by either spelling.
[[nodiscard]] bool isSameOrInside(const Spelling& inner, const Spelling& outer);

// A folder one pipeline writes into (results, moved sources), with its key.
struct Folder {
  Spelling path;
  std::string key_path;  // "pipelines[0].output.dir"
};

// output.dir, and on_success.dir and on_failure.dir when the action is move.
[[nodiscard]] std::vector<Folder> writtenFolders(const Pipeline& pipeline, std::size_t index);

// True when files written into `written` (or any folder below it, as
// records of subfolders are) can be found by a pipeline watching `watched`:
// the watched folder is the same as or inside the written one, or holds it
// and is watched recursively.
[[nodiscard]] bool feeds(const Spelling& written, const Spelling& watched, bool recursive);

}  // namespace dropd::config::detail
