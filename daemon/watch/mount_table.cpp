#include "dropd/watch/mount_table.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_map>

namespace dropd::watch {
namespace {

bool isOctal(char c) { return c >= '0' && c <= '7'; }

// The kernel escapes space, tab, newline and backslash in mountinfo's path
// fields as a backslash and three octal digits (\040). Anything else after
// a backslash is kept as it is.
std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && isOctal(field[i + 1]) &&
        isOctal(field[i + 2]) && isOctal(field[i + 3])) {
      const int value = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
      if (value <= 0xFF) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (start < line.size()) {
    const std::size_t end = std::min(line.find(' ', start), line.size());
    if (end > start) {
      fields.push_back(line.substr(start, end - start));
    }
    start = end + 1;
  }
  return fields;
}

// "/" or "/a/b": no empty, "." or ".." component. The kernel writes mount
// points this way; anything else would make a wrong relative path.
bool isNormalAbsolute(std::string_view path) {
  if (!path.starts_with('/')) {
    return false;
  }
  if (path == "/") {
    return true;
  }
  for (std::size_t start = 1; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view name = path.substr(start, end - start);
    if (name.empty() || name == "." || name == "..") {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool parseId(std::string_view text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// Fields: id, parent id, major:minor, root, mount point, options, zero or
// more optional fields, "-", type, source, super options.
std::optional<MountEntry> parseLine(std::string_view line) {
  const std::vector<std::string_view> fields = splitFields(line);
  constexpr std::size_t kBeforeOptional = 6;
  std::size_t separator = kBeforeOptional;
  while (separator < fields.size() && fields[separator] != "-") {
    ++separator;
  }
  if (separator + 1 >= fields.size()) {
    return std::nullopt;  // no separator, or no type after it
  }
  MountEntry entry;
  if (!parseId(fields[0], entry.id) || !parseId(fields[1], entry.parent_id)) {
    return std::nullopt;
  }
  entry.root = unescape(fields[3]);
  entry.mount_point = unescape(fields[4]);
  if (!isNormalAbsolute(entry.mount_point)) {
    return std::nullopt;
  }
  entry.fs_type = unescape(fields[separator + 1]);
  if (separator + 2 < fields.size()) {
    entry.source = unescape(fields[separator + 2]);
  }
  return entry;
}

// "/a/b" is below "/a" and "/", not below "/a/b" or "/ab".
bool isBelow(std::string_view path, std::string_view folder) {
  if (folder == "/") {
    return path.size() > 1 && path.front() == '/';
  }
  return path.size() > folder.size() && path.starts_with(folder) && path[folder.size()] == '/';
}

// "/a/b" -> "/a", "/a" -> "/", "/" -> nothing.
std::optional<std::string_view> parentOf(std::string_view path) {
  if (path == "/") {
    return std::nullopt;
  }
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

// Answers "which mount does a path resolve to" over one table. Mounts stack:
// a mount at a point already mounted on has the one below as its parent,
// and only the top of the stack is reached. A stack is visible when its
// bottom sits on the mount visible at the folder above its point (a mount
// over a folder on the way hides everything mounted below it before).
class Resolver {
 public:
  explicit Resolver(const std::vector<MountEntry>& entries)
      : entries_(entries), visible_(entries.size(), kUnknown) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      at_point_[entries[i].mount_point].push_back(i);
    }
  }

  // The visible mount a path is on, if any entry covers it.
  std::optional<std::size_t> covering(std::string_view path) {
    for (std::optional<std::string_view> p = path; p; p = parentOf(*p)) {
      if (const auto top = topAt(*p); top && visible(*top)) {
        return top;
      }
    }
    return std::nullopt;
  }

  bool visible(std::size_t index) {
    if (visible_[index] == kUnknown) {
      visible_[index] = computeVisible(index) ? kYes : kNo;
    }
    return visible_[index] == kYes;
  }

 private:
  enum Visibility : signed char { kUnknown, kYes, kNo };

  // The top of the stack at `point`: the mount no other mount there sits on
  // (the last such in the file if the table is inconsistent).
  std::optional<std::size_t> topAt(std::string_view point) const {
    const auto found = at_point_.find(point);
    if (found == at_point_.end()) {
      return std::nullopt;
    }
    const std::vector<std::size_t>& stack = found->second;
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
      const bool covered = std::any_of(stack.begin(), stack.end(), [&](std::size_t other) {
        return other != *it && entries_[other].parent_id == entries_[*it].id;
      });
      if (!covered) {
        return *it;
      }
    }
    return stack.back();
  }

  bool computeVisible(std::size_t index) {
    const MountEntry& entry = entries_[index];
    if (topAt(entry.mount_point) != index) {
      return false;
    }
    // Down the stack to the mount that sits on the folder above.
    const std::vector<std::size_t>& stack = at_point_.find(entry.mount_point)->second;
    std::size_t bottom = index;
    for (std::size_t steps = 0; steps < stack.size(); ++steps) {
      const auto below = std::find_if(stack.begin(), stack.end(), [&](std::size_t other) {
        return other != bottom && entries_[other].id == entries_[bottom].parent_id;
      });
      if (below == stack.end()) {
        break;
      }
      bottom = *below;
    }
    const std::optional<std::string_view> above = parentOf(entry.mount_point);
    if (!above) {
      return true;  // the top of the namespace's tree
    }
    const std::optional<std::size_t> on = covering(*above);
    return !on || entries_[*on].id == entries_[bottom].parent_id;
  }

  const std::vector<MountEntry>& entries_;
  std::unordered_map<std::string_view, std::vector<std::size_t>> at_point_;
  std::vector<Visibility> visible_;
};

}  // namespace

MountTable parseMountInfo(std::string_view text) {
  MountTable table;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(' ') == std::string_view::npos) {
      continue;
    }
    if (std::optional<MountEntry> entry = parseLine(line)) {
      table.entries.push_back(std::move(*entry));
    } else {
      ++table.rejected;
    }
  }
  return table;
}

RootMounts mountsOf(std::string_view root, const MountTable& table) {
  while (root.size() > 1 && root.ends_with('/')) {
    root.remove_suffix(1);
  }
  RootMounts out;
  if (!root.starts_with('/')) {
    return out;
  }
  Resolver resolver(table.entries);
  if (const std::optional<std::size_t> own = resolver.covering(root)) {
    out.fs_type = table.entries[*own].fs_type;
    out.mount_point = table.entries[*own].mount_point;
    out.kind = fileSystemKindByName(out.fs_type);
  }
  const std::size_t rel_start = root == "/" ? 1 : root.size() + 1;
  for (std::size_t i = 0; i < table.entries.size(); ++i) {
    const MountEntry& entry = table.entries[i];
    const FileSystemKind kind = fileSystemKindByName(entry.fs_type);
    if (kind != FileSystemKind::kLocal && isBelow(entry.mount_point, root) && resolver.visible(i)) {
      out.untrusted.push_back({entry.mount_point.substr(rel_start), entry.fs_type, kind});
    }
  }
  std::sort(out.untrusted.begin(), out.untrusted.end(),
            [](const MountBelow& a, const MountBelow& b) { return a.rel < b.rel; });
  // Outermost only: "a" is walked with everything in it, "a/b" included.
  std::vector<MountBelow> outermost;
  for (MountBelow& mount : out.untrusted) {
    const bool inside = std::any_of(outermost.begin(), outermost.end(), [&](const MountBelow& m) {
      return isBelow("/" + mount.rel, "/" + m.rel);
    });
    if (!inside) {
      outermost.push_back(std::move(mount));
    }
  }
  out.untrusted = std::move(outermost);
  return out;
}

}  // namespace dropd::watch
