#include "folders.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace dropd::config::detail {
namespace {

namespace fs = std::filesystem;

bool isSameOrBelow(const fs::path& inner, const fs::path& outer) {
  const auto [outer_end, inner_end] =
      std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return outer_end == outer.end();
}

}  // namespace

Spelling spellingOf(const fs::path& path) {
  const fs::path lexical = path.lexically_normal();
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(path, ec);
  return {lexical, ec ? lexical : resolved};
}

bool isSameOrInside(const Spelling& inner, const Spelling& outer) {
  return isSameOrBelow(inner.lexical, outer.lexical) ||
         isSameOrBelow(inner.resolved, outer.resolved);
}

std::vector<Folder> writtenFolders(const Pipeline& pipeline, std::size_t index) {
  const std::string prefix = fmt::format("pipelines[{}].", index);
  std::vector<Folder> folders;
  if (!pipeline.output_dir.empty()) {
    folders.push_back({spellingOf(pipeline.output_dir), prefix + "output.dir"});
  }
  if (pipeline.on_success.action == SourceAction::kMove && !pipeline.on_success.dir.empty()) {
    folders.push_back({spellingOf(pipeline.on_success.dir), prefix + "on_success.dir"});
  }
  if (pipeline.on_failure.action == SourceAction::kMove && !pipeline.on_failure.dir.empty()) {
    folders.push_back({spellingOf(pipeline.on_failure.dir), prefix + "on_failure.dir"});
  }
  return folders;
}

bool feeds(const Spelling& written, const Spelling& watched, bool recursive) {
  return isSameOrInside(watched, written) || (recursive && isSameOrInside(written, watched));
}

}  // namespace dropd::config::detail
