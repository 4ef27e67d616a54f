#include "yaml_reader.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "dropd/config/units.hpp"

#include "suggest.hpp"

namespace dropd::config::detail {
namespace {

// A scalar's text, or nullopt after "expected <what>, got <type>".
std::optional<std::string> scalarText(Context& ctx, const YAML::Node& node, Path path,
                                      std::string_view what) {
  if (!node.IsScalar()) {
    ctx.error(node, path, fmt::format("expected {}, got {}", what, describeType(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::string quoteList(std::span<const std::string_view> names) {
  std::string out;
  for (const std::string_view name : names) {
    out += out.empty() ? "" : ", ";
    out += name;
  }
  return out;
}

}  // namespace

Position positionOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

void Diagnostics::add(Position at, std::string key_path, std::string message) {
  list_.push_back(Diagnostic{file_, at.line, at.col, std::move(key_path), std::move(message)});
}

void Diagnostics::remember(const std::string& key_path, const YAML::Node& node) {
  positions_.emplace(key_path, detail::positionOf(node));
}

Position Diagnostics::positionOf(const std::string& key_path) const {
  const auto it = positions_.find(key_path);
  return it == positions_.end() ? Position{} : it->second;
}

std::vector<Diagnostic> Diagnostics::take() {
  std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.line, a.col) < std::pair(b.line, b.col);
  });
  return std::move(list_);
}

std::string_view describeType(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

MapReader::MapReader(Context& ctx, const YAML::Node& node, std::string path, KeySet keys)
    : ctx_(ctx), node_(node), path_(std::move(path)), is_mapping_(node.IsMap()) {
  if (!is_mapping_) {
    ctx_.error(node, path_, fmt::format("expected a mapping, got {}", describeType(node)));
    return;
  }
  for (const auto& item : node) {
    if (!item.first.IsScalar()) {
      ctx_.error(item.first, path_, "a key must be a plain string");
      continue;
    }
    const std::string& key = item.first.Scalar();
    const std::string key_path = pathOf(key);
    const auto same = [&key](const auto& entry) { return entry.first == key; };
    if (const auto first = std::find_if(entries_.begin(), entries_.end(), same);
        first != entries_.end()) {
      ctx_.error(item.first, key_path,
                 fmt::format("duplicate key (first at line {})", positionOf(first->second).line));
      continue;
    }
    if (!keys.names.empty() &&
        std::find(keys.names.begin(), keys.names.end(), key) == keys.names.end()) {
      const auto hint = nearest(key, keys.names);
      ctx_.error(item.first, key_path,
                 hint ? fmt::format("unknown key (did you mean '{}'?)", *hint)
                      : fmt::format("unknown key (known: {})", quoteList(keys.names)));
      continue;
    }
    if (item.second.IsNull() && !keys.null_values) {
      // A null value's mark points past it, so report at the key. Leaving
      // the key out keeps the default; writing it without a value is a slip.
      ctx_.error(item.first, key_path, "has no value");
      valueless_.push_back(key);
      continue;
    }
    entries_.emplace_back(key, item.second);
    ctx_.diags.remember(key_path, item.second);
  }
}

YAML::Node MapReader::find(std::string_view key) const {
  for (const auto& [name, value] : entries_) {
    if (name == key) {
      return value;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node MapReader::require(std::string_view key) const {
  YAML::Node value = find(key);
  const bool valueless = std::find(valueless_.begin(), valueless_.end(), key) != valueless_.end();
  if (is_mapping_ && !value.IsDefined() && !valueless) {
    ctx_.error(node_, pathOf(key), "missing required key");
  }
  return value;
}

std::string MapReader::pathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

std::optional<std::string> readString(Context& ctx, const YAML::Node& node, Path path) {
  return scalarText(ctx, node, path, "a string");
}

std::optional<std::string> readNonEmptyString(Context& ctx, const YAML::Node& node, Path path) {
  auto text = scalarText(ctx, node, path, "a string");
  if (text && text->empty()) {
    ctx.error(node, path, "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<bool> readBool(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = scalarText(ctx, node, path, "true or false");
  if (text && (*text == "true" || *text == "false")) {
    return *text == "true";
  }
  if (text) {
    ctx.error(node, path, fmt::format("expected true or false, got '{}'", *text));
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> readDuration(Context& ctx, const YAML::Node& node,
                                                      Path path) {
  const auto text = scalarText(ctx, node, path, "a duration");
  if (!text) {
    return std::nullopt;
  }
  auto duration = parseDuration(*text);
  if (!duration) {
    ctx.error(node, path, duration.error().context);
    return std::nullopt;
  }
  return *duration;
}

std::optional<std::uint64_t> readSize(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = scalarText(ctx, node, path, "a size");
  if (!text) {
    return std::nullopt;
  }
  auto size = parseSize(*text);
  if (!size) {
    ctx.error(node, path, size.error().context);
    return std::nullopt;
  }
  return *size;
}

std::optional<std::uint64_t> readUInt(Context& ctx, const YAML::Node& node, Path path,
                                      IntRange range) {
  const auto text = scalarText(ctx, node, path, "a whole number");
  if (!text) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const char* const end = text->data() + text->size();
  const auto [stop, ec] = std::from_chars(text->data(), end, value);
  const bool negative = text->starts_with('-');
  if (!negative && (ec != std::errc{} || stop != end)) {
    ctx.error(node, path, fmt::format("expected a whole number, got '{}'", *text));
    return std::nullopt;
  }
  if (negative || value < range.min || value > range.max) {
    ctx.error(node, path,
              fmt::format("must be from {} to {}, got {}", range.min, range.max, *text));
    return std::nullopt;
  }
  return value;
}

std::optional<std::filesystem::path> readPath(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = readNonEmptyString(ctx, node, path);
  if (!text) {
    return std::nullopt;
  }
  if (text->starts_with('~')) {
    ctx.error(node, path, "'~' is not expanded: write the full path");
    return std::nullopt;
  }
  std::filesystem::path result = (ctx.base_dir / *text).lexically_normal();
  if (!result.has_filename() && result.has_relative_path()) {
    result = result.parent_path();  // "/a/b/" names the same folder as "/a/b"
  }
  return result;
}

bool isValidName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
  });
}

std::optional<std::string> readName(Context& ctx, const YAML::Node& node, Path path) {
  auto name = readString(ctx, node, path);
  if (name && !isValidName(*name)) {
    ctx.error(node, path, "a name is 1 to 64 letters, digits, '_' or '-'");
    return std::nullopt;
  }
  return name;
}

std::optional<std::vector<std::string>> readStringList(Context& ctx, const YAML::Node& node,
                                                       Path path) {
  if (!node.IsSequence()) {
    ctx.error(node, path, fmt::format("expected a list, got {}", describeType(node)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = fmt::format("{}[{}]", path, i);
    ctx.diags.remember(item_path, node[i]);
    auto item = readNonEmptyString(ctx, node[i], item_path);
    ok = ok && item.has_value();
    out.push_back(item.value_or(""));
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

std::optional<std::size_t> readChoice(Context& ctx, const YAML::Node& node, Path path,
                                      std::span<const std::string_view> names) {
  const auto text = scalarText(ctx, node, path, fmt::format("one of {}", quoteList(names)));
  if (!text) {
    return std::nullopt;
  }
  const auto it = std::find(names.begin(), names.end(), *text);
  if (it != names.end()) {
    return static_cast<std::size_t>(it - names.begin());
  }
  const auto hint = nearest(*text, names);
  ctx.error(node, path,
            fmt::format("'{}' is not one of: {}{}", *text, quoteList(names),
                        hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
  return std::nullopt;
}

}  // namespace dropd::config::detail
