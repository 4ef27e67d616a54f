#include "dropd/watch/path_filter.hpp"

#include <fnmatch.h>

namespace dropd::watch {
namespace {

bool matches(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), FNM_PATHNAME) == 0;
}

bool matchesName(const std::string& pattern, std::string_view rel) {
  if (pattern.find('/') != std::string::npos) {
    return matches(pattern, std::string(rel));
  }
  const size_t slash = rel.rfind('/');
  return matches(pattern,
                 std::string(slash == std::string_view::npos ? rel : rel.substr(slash + 1)));
}

}  // namespace

PathFilter::PathFilter(std::vector<std::string> include, std::vector<std::string> exclude)
    : include_(std::move(include)), exclude_(std::move(exclude)) {}

bool PathFilter::excluded(std::string_view rel) const {
  for (const std::string& pattern : exclude_) {
    if (pattern.find('/') != std::string::npos) {
      // The path and every folder on the way: a file inside an excluded
      // folder is excluded too, even when the scanner is not the one that
      // found it (an inotify watch follows a folder renamed into "a/old").
      for (size_t end = rel.find('/'); end != std::string_view::npos;
           end = rel.find('/', end + 1)) {
        if (matches(pattern, std::string(rel.substr(0, end)))) {
          return true;
        }
      }
      if (matches(pattern, std::string(rel))) {
        return true;
      }
      continue;
    }
    // Every name on the way: "a/.hidden/b.txt" is excluded by ".*".
    size_t start = 0;
    while (start <= rel.size()) {
      const size_t end = std::min(rel.find('/', start), rel.size());
      if (matches(pattern, std::string(rel.substr(start, end - start)))) {
        return true;
      }
      start = end + 1;
    }
  }
  return false;
}

bool PathFilter::acceptsDir(std::string_view rel) const { return !excluded(rel); }

bool PathFilter::acceptsFile(std::string_view rel) const {
  if (excluded(rel)) {
    return false;
  }
  for (const std::string& pattern : include_) {
    if (matchesName(pattern, rel)) {
      return true;
    }
  }
  return false;
}

}  // namespace dropd::watch
