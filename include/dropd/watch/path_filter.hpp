#pragma once

// Which names in a watched tree are candidates, from a pipeline's include and
// exclude globs (fnmatch(3) patterns). Pure, any thread.
//
// The rules (docs/config.md):
//  - a pattern without '/' matches one name: exclude patterns apply to every
//    folder and file name on the way (so ".*" also skips ".git/..." and
//    "@eaDir" skips Synology's metadata folders), include patterns to the
//    file's own name;
//  - a pattern with '/' matches the whole path relative to the watched root;
//    an exclude pattern that matches a folder's path excludes all inside it;
//  - a file is a candidate if some include pattern matches and no exclude
//    pattern does.

#include <string>
#include <string_view>
#include <vector>

namespace dropd::watch {

class PathFilter {
 public:
  PathFilter(std::vector<std::string> include, std::vector<std::string> exclude);

  // `rel` is relative to the watched root, '/'-separated, without a leading '/'.
  [[nodiscard]] bool acceptsFile(std::string_view rel) const;
  // False when the folder at `rel` (and so everything below it) is excluded.
  [[nodiscard]] bool acceptsDir(std::string_view rel) const;

 private:
  [[nodiscard]] bool excluded(std::string_view rel) const;

  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
};

}  // namespace dropd::watch
