// FILE arguments of `dropd status` and the /files query they become
// (status_format.hpp).

#include <cstdio>
#include <string>

#include "dropd/ops/status_format.hpp"

namespace dropd::ops {
namespace {

namespace fs = std::filesystem;

// `path` without trailing separators, lexically normal ("/a/in/" -> "/a/in").
fs::path normalRoot(const fs::path& path) {
  std::string text = path.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  return text;
}

// The path of `file` below `root`, or empty when it is not strictly inside.
std::string below(const fs::path& file, const fs::path& root) {
  const fs::path rel = file.lexically_relative(root);
  const std::string text = rel.generic_string();
  if (text.empty() || text == "." || text == ".." || text.starts_with("../")) {
    return {};
  }
  return text;
}

}  // namespace

std::optional<FileQuery> resolveStatusFile(const config::Config& cfg, std::string_view arg,
                                           const fs::path& cwd) {
  const fs::path given{std::string(arg)};
  const fs::path full = (given.is_absolute() ? given : cwd / given).lexically_normal();
  for (const config::Pipeline& p : cfg.pipelines) {
    for (std::size_t i = 0; i < p.watch.size(); ++i) {
      const std::string rel = below(full, normalRoot(p.watch[i]));
      if (!rel.empty()) {
        const std::string prefix = i < p.record_prefixes.size() ? p.record_prefixes[i] : "";
        return FileQuery{p.name, prefix + rel};
      }
    }
  }
  if (given.is_absolute() || arg.empty()) {
    return std::nullopt;
  }
  std::string rel{arg};
  while (rel.starts_with("./")) {
    rel.erase(0, 2);
  }
  return FileQuery{"", rel};
}

std::string percentEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                            (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '/';
    if (unreserved) {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out.append(buf);
    }
  }
  return out;
}

std::string filesTarget(const FileQuery& query) {
  std::string target = "/files?path=" + percentEncode(query.rel);
  if (!query.pipeline.empty()) {
    target += "&pipeline=" + percentEncode(query.pipeline);
  }
  return target;
}

}  // namespace dropd::ops
