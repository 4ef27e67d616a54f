#include "dropd/ops/requeue_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "dropd/config/record_prefix.hpp"
#include "dropd/ops/cli.hpp"
#include "dropd/pipeline/ledger.hpp"
#include "dropd/pipeline/prompt_version.hpp"

#include "ops/requeue_ledger.hpp"

namespace dropd::ops {
namespace {

namespace fs = std::filesystem;

// An absolute PATH inside a watched or failed folder as the relative path
// dropd gives that file (its root's record prefix first); PATH as it is when
// it is inside none of them.
std::string relativeSelector(const config::Pipeline& p, const std::string& path) {
  const auto below = [&path](const fs::path& base) -> std::optional<std::string> {
    const std::string prefix = base.string() + "/";
    if (base.empty() || path.rfind(prefix, 0) != 0) {
      return std::nullopt;
    }
    return path.substr(prefix.size());
  };
  if (auto rel = below(p.on_failure.dir)) {
    return *rel;  // the failed folder is laid out by relative path already
  }
  for (std::size_t i = 0; i < p.watch.size(); ++i) {
    if (auto rel = below(p.watch[i])) {
      return p.record_prefixes[i] + *rel;
    }
  }
  return path;
}

// The relative selectors: absolute PATHs lose the folder they are in.
std::vector<std::string> selectors(const config::Pipeline& p, std::span<const std::string> paths) {
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    std::string rel = relativeSelector(p, path);
    while (!rel.empty() && rel.back() == '/') {
      rel.pop_back();
    }
    out.push_back(rel);
  }
  return out.empty() ? std::vector<std::string>{""} : out;
}

bool selected(const std::string& rel, const std::vector<std::string>& sel) {
  for (const std::string& s : sel) {
    if (s.empty() || rel == s || rel.rfind(s + "/", 0) == 0) {
      return true;
    }
  }
  return false;
}

// Moves failed/<rel> back to where it came from, never over an existing file.
bool moveBack(const fs::path& from, const fs::path& to, std::ostream& err) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    err << "dropd requeue: rename(" << from.string() << " -> " << to.string()
        << "): " << std::strerror(errno) << '\n';
    return false;
  }
  ::utimensat(AT_FDCWD, to.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);  // a new identity
  return true;
}

std::size_t requeueFailed(const config::Pipeline& p, const std::vector<std::string>& sel,
                          std::ostream& err) {
  if (p.on_failure.action != config::SourceAction::kMove || !fs::is_directory(p.on_failure.dir)) {
    return 0;
  }
  std::vector<std::string> rels;
  for (const auto& e : fs::recursive_directory_iterator(p.on_failure.dir)) {
    const std::string rel = fs::relative(e.path(), p.on_failure.dir).string();
    const bool record = rel.size() > 11 && rel.ends_with(".error.json");
    if (!e.is_directory() && !record && selected(rel, sel)) {
      rels.push_back(rel);
    }
  }
  std::size_t moved = 0;
  for (const std::string& rel : rels) {
    const auto root = config::rootOfRecord(p.record_prefixes, rel);
    if (!root) {
      err << "dropd requeue: " << (p.on_failure.dir / rel).string()
          << " is from none of the watched folders; left where it is\n";
      continue;
    }
    const fs::path back = p.watch[*root] / rel.substr(p.record_prefixes[*root].size());
    if (moveBack(p.on_failure.dir / rel, back, err)) {
      fs::remove(p.on_failure.dir / (rel + ".error.json"));
      ++moved;
    }
  }
  return moved;
}

void touchSelected(const config::Pipeline& p, const std::vector<std::string>& sel) {
  for (std::size_t i = 0; i < p.watch.size(); ++i) {
    const fs::path& root = p.watch[i];
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      const std::string rel = p.record_prefixes[i] + fs::relative(it->path(), root).string();
      if (it->is_regular_file() && selected(rel, sel)) {
        ::utimensat(AT_FDCWD, it->path().c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
      }
    }
  }
}

// --- --changed ----------------------------------------------------------------

std::string fromBase64(const std::string& text) {
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    return {};
  }
  std::size_t pad = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) {
    ++pad;
  }
  out.resize(static_cast<std::size_t>(n) - std::min<std::size_t>(pad, static_cast<std::size_t>(n)));
  return out;
}

// Each source with results of pipeline `p` in its output folder: whether
// one of them was made by `version`, and the records made by another.
struct ResultsOfFile {
  bool current = false;
  std::vector<fs::path> stale;
};

std::map<std::string, ResultsOfFile> resultVersions(const config::Pipeline& p,
                                                    const std::string& version) {
  std::map<std::string, ResultsOfFile> rels;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(p.output_dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file() || !name.ends_with(".json") || name.ends_with(".error.json")) {
      continue;
    }
    std::ifstream in(it->path());
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_object() || doc.value("pipeline", "") != p.name || !doc.contains("source")) {
      continue;  // not a result, or another pipeline's in a shared folder
    }
    const auto& source = doc["source"];
    const std::string rel = source.contains("path_base64")
                                ? fromBase64(source.value("path_base64", ""))
                                : source.value("path", "");
    if (rel.empty()) {
      continue;
    }
    ResultsOfFile& results = rels[rel];
    if (doc.value("prompt_version", "") == version) {
      results.current = true;
    } else {
      results.stale.push_back(it->path());
    }
  }
  return rels;
}

// Sends one file again: moved back from the done folder, or touched where
// it was kept; its ledger rows are forgotten. False when it is in neither.
bool requeueChangedFile(const config::Pipeline& p, const std::string& rel,
                        const std::vector<fs::path>& stale, RequeueLedger& ledger,
                        std::ostream& err) {
  const auto root = config::rootOfRecord(p.record_prefixes, rel);
  if (!root) {
    return false;
  }
  const fs::path inbox = p.watch[*root] / rel.substr(p.record_prefixes[*root].size());
  const fs::path done = p.on_success.dir / rel;
  bool found = false;
  if (p.on_success.action == config::SourceAction::kMove && fs::is_regular_file(done)) {
    found = moveBack(done, inbox, err);
  } else if (fs::is_regular_file(inbox)) {
    found = ::utimensat(AT_FDCWD, inbox.c_str(), nullptr, AT_SYMLINK_NOFOLLOW) == 0;
  }
  if (found) {
    (void)ledger.forget({p.name, rel, false});
    for (const fs::path& record : stale) {
      std::error_code ignored;
      fs::remove(record, ignored);  // superseded: the new answer takes <rel>.json
    }
  }
  return found;
}

}  // namespace

int runRequeueCommand(const config::Config& config, bool failed_only,
                      std::span<const std::string> paths, std::ostream& out, std::ostream& err) {
  auto ledger = RequeueLedger::open(config);
  if (!ledger) {
    err << "dropd requeue: " << ledger.error().message() << '\n';
    return kExitRuntime;
  }
  std::size_t moved = 0;
  std::size_t forgotten = 0;
  for (const config::Pipeline& p : config.pipelines) {
    const std::vector<std::string> sel = selectors(p, paths);
    if (failed_only) {
      moved += requeueFailed(p, sel, err);
    } else {
      touchSelected(p, sel);
    }
    for (const std::string& prefix : sel) {
      auto n = (*ledger)->forget({p.name, prefix, failed_only});
      if (!n) {
        err << "dropd requeue: " << n.error().message() << '\n';
        return kExitRuntime;
      }
      forgotten += *n;
    }
  }
  out << "requeued " << moved << " failed files, forgot " << forgotten << " ledger rows\n";
  return kExitOk;
}

}  // namespace dropd::ops

namespace dropd::ops {

int runRequeueChanged(const config::Config& config, const std::string& only_pipeline, bool dry_run,
                      std::ostream& out, std::ostream& err) {
  auto ledger = RequeueLedger::open(config);
  if (!ledger) {
    err << "dropd requeue: " << ledger.error().message() << '\n';
    return kExitRuntime;
  }
  bool known = only_pipeline.empty();
  for (const config::Pipeline& p : config.pipelines) {
    if (!only_pipeline.empty() && p.name != only_pipeline) {
      continue;
    }
    known = true;
    const config::Endpoint* endpoint = config.findEndpoint(p.endpoint);
    const std::string version = pipeline::promptVersion(p, *endpoint);
    std::vector<std::pair<std::string, std::vector<fs::path>>> changed;
    for (auto& [rel, results] : resultVersions(p, version)) {
      if (!results.current) {
        changed.emplace_back(rel, std::move(results.stale));
      }
    }
    out << "pipeline " << p.name << ": " << changed.size()
        << " files answered under another prompt version than " << version
        << (dry_run ? " (dry run: nothing sent)" : ": sending them again") << '\n';
    if (dry_run) {
      continue;
    }
    std::size_t sent = 0;
    for (const auto& [rel, stale] : changed) {
      if (requeueChangedFile(p, rel, stale, **ledger, err)) {
        ++sent;
      } else {
        err << "dropd requeue: " << p.name << ": " << rel
            << ": its source is neither in the done folder nor in a watched one; skipped\n";
      }
    }
    out << "pipeline " << p.name << ": requeued " << sent << " files\n";
  }
  if (!known) {
    err << "dropd requeue: no pipeline named " << only_pipeline << '\n';
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace dropd::ops
