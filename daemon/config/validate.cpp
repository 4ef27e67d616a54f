#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "folders.hpp"
#include "readers.hpp"
#include "suggest.hpp"

namespace dropd::config::detail {
namespace {

void report(Diagnostics& diags, const std::string& key_path, std::string message) {
  diags.add(diags.positionOf(key_path), key_path, std::move(message));
}

// A watched folder that is (inside) a folder the same pipeline writes, or
// that holds one while recursive: dropd would read its own output back.
void checkLoops(const Pipeline& pipeline, std::size_t index, Diagnostics& diags) {
  const std::vector<Folder> written = writtenFolders(pipeline, index);
  for (std::size_t w = 0; w < pipeline.watch.size(); ++w) {
    const Spelling watched = spellingOf(pipeline.watch[w]);
    const std::string watch_path = fmt::format("pipelines[{}].watch[{}]", index, w);
    for (const Folder& folder : written) {
      if (isSameOrInside(watched, folder.path)) {
        report(diags, watch_path,
               fmt::format("watched folder is the same as or inside {}: a loop", folder.key_path));
      } else if (pipeline.recursive && isSameOrInside(folder.path, watched)) {
        report(diags, folder.key_path,
               fmt::format("folder is inside the recursively watched {}: a loop", watch_path));
      }
    }
  }
}

// One root of a pipeline that is the same as or inside another: its files
// would be sent twice, and their relative paths could not tell the roots
// apart (record_prefix.hpp).
void checkRoots(const Pipeline& pipeline, std::size_t index, Diagnostics& diags) {
  for (std::size_t j = 0; j < pipeline.watch.size(); ++j) {
    const Spelling mine = spellingOf(pipeline.watch[j]);
    for (std::size_t i = 0; i < j; ++i) {
      const Spelling theirs = spellingOf(pipeline.watch[i]);
      if (isSameOrInside(mine, theirs) || isSameOrInside(theirs, mine)) {
        report(diags, fmt::format("pipelines[{}].watch[{}]", index, j),
               fmt::format("watched folder overlaps pipelines[{}].watch[{}] ({}): its files "
                           "would be sent twice",
                           index, i, theirs.resolved.string()));
        break;
      }
    }
  }
}

void checkOutputDirs(const Config& config, Diagnostics& diags) {
  for (std::size_t j = 0; j < config.pipelines.size(); ++j) {
    const Spelling mine = spellingOf(config.pipelines[j].output_dir);
    for (std::size_t i = 0; i < j && !config.pipelines[j].output_dir.empty(); ++i) {
      const Spelling theirs = spellingOf(config.pipelines[i].output_dir);
      if (config.pipelines[i].output_dir.empty() ||
          (!isSameOrInside(mine, theirs) && !isSameOrInside(theirs, mine))) {
        continue;
      }
      report(diags, fmt::format("pipelines[{}].output.dir", j),
             fmt::format("output dir overlaps pipelines[{}].output.dir ({}): results would mix", i,
                         theirs.resolved.string()));
    }
  }
}

void checkNamesAndEndpoints(const Config& config, Diagnostics& diags) {
  std::vector<std::string_view> endpoint_names;
  for (const Endpoint& endpoint : config.endpoints) {
    endpoint_names.push_back(endpoint.name);
  }
  for (std::size_t j = 0; j < config.pipelines.size(); ++j) {
    const Pipeline& pipeline = config.pipelines[j];
    for (std::size_t i = 0; i < j; ++i) {
      if (config.pipelines[i].name == pipeline.name) {
        report(diags, fmt::format("pipelines[{}].name", j),
               fmt::format("duplicate pipeline name '{}' (also pipelines[{}])", pipeline.name, i));
        break;
      }
    }
    if (pipeline.endpoint.empty() || config.findEndpoint(pipeline.endpoint) != nullptr ||
        endpoint_names.empty()) {
      continue;
    }
    const auto hint = nearest(pipeline.endpoint, endpoint_names);
    report(diags, fmt::format("pipelines[{}].endpoint", j),
           fmt::format("unknown endpoint '{}' ({} {})", pipeline.endpoint,
                       hint ? "did you mean" : "defined:",
                       hint ? fmt::format("'{}'?", *hint)
                            : fmt::format("{}", fmt::join(endpoint_names, ", "))));
  }
}

}  // namespace

// Dedupe reads every row of its pipeline at start, from the SQLite ledger's
// idle connection; the PostgreSQL ledger cannot serve that yet.
void checkLedger(const Config& config, Diagnostics& diags) {
  if (config.ledger.backend != LedgerConfig::Backend::kPostgres) {
    return;
  }
  for (std::size_t i = 0; i < config.pipelines.size(); ++i) {
    if (config.pipelines[i].dedupe != Dedupe::kNone) {
      report(diags, fmt::format("pipelines[{}].dedupe", i),
             "dedupe with ledger.backend: postgres is not built yet (issue 16): use the sqlite "
             "ledger, or dedupe: none");
    }
  }
}

void validateConfig(const Config& config, Diagnostics& diags) {
  checkLedger(config, diags);
  checkNamesAndEndpoints(config, diags);
  checkOutputDirs(config, diags);
  for (std::size_t i = 0; i < config.pipelines.size(); ++i) {
    checkRoots(config.pipelines[i], i, diags);
    checkLoops(config.pipelines[i], i, diags);
  }
  checkFeedLoops(config, diags);
}

}  // namespace dropd::config::detail
