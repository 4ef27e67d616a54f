// Pipelines that feed each other in a loop. Pipeline A feeds B when A writes
// (results, moved sources) into a folder B watches: then each file B writes
// back into A's folders is sent again, its name one suffix longer each time
// (issue 10: one file became 46 requests in 5 s). A chain (A's output is B's
// inbox) is fine; a loop through any number of pipelines is refused.

#include <deque>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "folders.hpp"
#include "readers.hpp"

namespace dropd::config::detail {
namespace {

// Pipeline `to` watches, at `watch_path`, a folder that `from` writes into
// through `key_path`.
struct Feed {
  std::size_t to = 0;
  std::string key_path;    // "pipelines[1].output.dir"
  std::string watch_path;  // "pipelines[0].watch[0]"
  std::string watched;     // that folder, resolved, for the message
};

// feeds[from]: the first Feed found to each other pipeline, in index order.
using Graph = std::vector<std::vector<Feed>>;

std::optional<Feed> feedInto(const Folder& folder, const Pipeline& to, std::size_t to_index) {
  for (std::size_t w = 0; w < to.watch.size(); ++w) {
    const Spelling watched = spellingOf(to.watch[w]);
    if (feeds(folder.path, watched, to.recursive)) {
      return Feed{to_index, folder.key_path, fmt::format("pipelines[{}].watch[{}]", to_index, w),
                  watched.resolved.string()};
    }
  }
  return std::nullopt;
}

// A pipeline feeding itself is left out: validate.cpp reports that one.
Graph feedGraph(const Config& config) {
  const std::size_t n = config.pipelines.size();
  Graph graph(n);
  for (std::size_t from = 0; from < n; ++from) {
    const std::vector<Folder> written = writtenFolders(config.pipelines[from], from);
    for (std::size_t to = 0; to < n; ++to) {
      for (const Folder& folder : written) {
        auto feed = to == from ? std::nullopt : feedInto(folder, config.pipelines[to], to);
        if (feed) {
          graph[from].push_back(std::move(*feed));
          break;
        }
      }
    }
  }
  return graph;
}

// The feeds of a shortest loop from `start` back to it, or an empty list.
std::vector<const Feed*> shortestLoop(const Graph& graph, std::size_t start) {
  std::vector<const Feed*> via(graph.size(), nullptr);  // the feed that first reached each
  std::vector<std::size_t> from(graph.size(), 0);
  std::deque<std::size_t> queue{start};
  while (!queue.empty()) {
    const std::size_t at = queue.front();
    queue.pop_front();
    for (const Feed& feed : graph[at]) {
      if (feed.to == start) {
        std::vector<const Feed*> loop{&feed};
        for (std::size_t back = at; back != start; back = from[back]) {
          loop.insert(loop.begin(), via[back]);
        }
        return loop;
      }
      if (via[feed.to] == nullptr) {
        via[feed.to] = &feed;
        from[feed.to] = at;
        queue.push_back(feed.to);
      }
    }
  }
  return {};
}

std::string describeLoop(const Config& config, std::size_t start,
                         const std::vector<const Feed*>& loop) {
  std::string names = fmt::format("\"{}\"", config.pipelines[start].name);
  for (const Feed* feed : loop) {
    names += fmt::format(" -> \"{}\"", config.pipelines[feed->to].name);
  }
  const Feed& last = *loop.back();
  return fmt::format("folder is watched by {} ({}), which closes a loop: pipelines {}",
                     last.watch_path, last.watched, names);
}

}  // namespace

// One diagnostic for each pipeline on a loop that no earlier diagnostic
// named: its shortest loop, at the key of the feed that closes it. So every
// loop is refused, and a loop of N pipelines is reported once, not N times.
void checkFeedLoops(const Config& config, Diagnostics& diags) {
  const Graph graph = feedGraph(config);
  std::vector<bool> reported(graph.size(), false);
  for (std::size_t start = 0; start < graph.size(); ++start) {
    if (reported[start]) {
      continue;
    }
    const std::vector<const Feed*> loop = shortestLoop(graph, start);
    if (loop.empty()) {
      continue;
    }
    for (const Feed* feed : loop) {
      reported[feed->to] = true;
    }
    const std::string& key_path = loop.back()->key_path;
    diags.add(diags.positionOf(key_path), key_path, describeLoop(config, start, loop));
  }
}

}  // namespace dropd::config::detail
