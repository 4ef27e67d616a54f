#include "dropd/config/record_prefix.hpp"

#include <algorithm>

namespace dropd::config {
namespace {

namespace fs = std::filesystem;

using Components = std::vector<std::string>;

Components componentsOf(const fs::path& root) {
  Components out;
  for (const fs::path& part : root.lexically_normal().relative_path()) {
    std::string name = part.string();
    if (!name.empty() && name != ".") {  // "" is what a trailing slash leaves
      out.push_back(std::move(name));
    }
  }
  return out;
}

// The last `length` components of `components`.
std::span<const std::string> trailing(const Components& components, std::size_t length) {
  return std::span<const std::string>(components).last(length);
}

// True when run `a` equals run `b` or is its beginning: then a file below
// the root of `a` and one below the root of `b` could get the same path.
bool begins(std::span<const std::string> a, std::span<const std::string> b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// One round: which runs must grow by a component. Of two equal runs both
// grow; of a run that begins a longer one the shorter grows, or the longer
// when the shorter is the whole path already. Empty when all are apart, or
// when what is left cannot be told apart however long the runs get.
std::vector<bool> runsToGrow(const std::vector<Components>& roots,
                             const std::vector<std::size_t>& lengths) {
  std::vector<bool> grow(roots.size(), false);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    for (std::size_t j = 0; j < roots.size(); ++j) {
      if (i == j || !begins(trailing(roots[i], lengths[i]), trailing(roots[j], lengths[j]))) {
        continue;
      }
      if (lengths[i] < roots[i].size()) {
        grow[i] = true;
      } else if (lengths[j] < roots[j].size()) {
        grow[j] = true;
      }
    }
  }
  return grow;
}

std::string joined(std::span<const std::string> run) {
  std::string out;
  for (const std::string& name : run) {
    out += name;
    out += '/';
  }
  return out;
}

}  // namespace

std::vector<std::string> recordPrefixes(std::span<const fs::path> roots) {
  if (roots.size() <= 1) {
    return std::vector<std::string>(roots.size());
  }
  std::vector<Components> components;
  std::vector<std::size_t> lengths;
  for (const fs::path& root : roots) {
    components.push_back(componentsOf(root));
    lengths.push_back(std::min<std::size_t>(1, components.back().size()));
  }
  // Each round lengthens at least one run, so this ends after at most as
  // many rounds as there are components in all.
  for (;;) {
    const std::vector<bool> grow = runsToGrow(components, lengths);
    if (std::find(grow.begin(), grow.end(), true) == grow.end()) {
      break;
    }
    for (std::size_t i = 0; i < roots.size(); ++i) {
      lengths[i] += grow[i] ? 1 : 0;
    }
  }
  std::vector<std::string> prefixes;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    prefixes.push_back(joined(trailing(components[i], lengths[i])));
  }
  return prefixes;
}

std::optional<std::size_t> rootOfRecord(std::span<const std::string> prefixes,
                                        std::string_view rel) {
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (rel.starts_with(prefixes[i])) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace dropd::config
