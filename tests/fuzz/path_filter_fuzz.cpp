// PathFilter on any globs and paths: more exclude patterns never accept
// more, more include patterns never accept less, no include pattern accepts
// nothing, and a file inside an excluded folder is never accepted (the
// scanner and the inotify intake must agree).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/watch/path_filter.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::watch::PathFilter;

// Up to four patterns; NUL bytes are dropped since a config string cannot hold one.
std::vector<std::string> takePatterns(dropd::fuzz::FuzzInput& input) {
  std::vector<std::string> patterns;
  const std::size_t count = input.takeByte() % 5;
  for (std::size_t i = 0; i < count; ++i) {
    std::string pattern;
    for (const char c : input.takeShortString()) {
      if (c != '\0') {
        pattern += c;
      }
    }
    if (!pattern.empty()) {
      patterns.push_back(std::move(pattern));
    }
  }
  return patterns;
}

// At most kMaxRelBytes: the checks below are quadratic in the number of
// folders on the way, and deeper paths reach no other code.
constexpr std::size_t kMaxRelBytes = 256;

std::string takeRelPath(dropd::fuzz::FuzzInput& input) {
  std::string rel;
  for (const char c : input.takeRest().substr(0, kMaxRelBytes)) {
    if (c != '\0') {
      rel += c;
    }
  }
  return rel;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::vector<std::string> include = takePatterns(input);
  const std::vector<std::string> exclude = takePatterns(input);
  const std::vector<std::string> extra = takePatterns(input);
  const std::string rel = takeRelPath(input);

  const PathFilter filter(include, exclude);
  const bool file = filter.acceptsFile(rel);
  const bool dir = filter.acceptsDir(rel);
  DROPD_FUZZ_CHECK(!file || dir);  // an excluded path is excluded as a file too
  DROPD_FUZZ_CHECK(!PathFilter({}, exclude).acceptsFile(rel));

  std::vector<std::string> more_exclude = exclude;
  more_exclude.insert(more_exclude.end(), extra.begin(), extra.end());
  const PathFilter stricter(include, more_exclude);
  DROPD_FUZZ_CHECK(!stricter.acceptsFile(rel) || file);
  DROPD_FUZZ_CHECK(!stricter.acceptsDir(rel) || dir);

  std::vector<std::string> more_include = include;
  more_include.insert(more_include.end(), extra.begin(), extra.end());
  DROPD_FUZZ_CHECK(!file || PathFilter(more_include, exclude).acceptsFile(rel));

  // A file is accepted only if every folder on its way is.
  for (std::size_t slash = rel.find('/'); slash != std::string::npos;
       slash = rel.find('/', slash + 1)) {
    DROPD_FUZZ_CHECK(!file || filter.acceptsDir(rel.substr(0, slash)));
  }
  return 0;
}
