#pragma once

// Walking a yaml-cpp tree while recording every problem instead of stopping
// at the first. Readers return std::nullopt after adding a diagnostic, so the
// caller keeps its default and goes on with the next key. yaml-cpp stays in
// daemon/config/ (STYLE.md).

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "dropd/config/config_error.hpp"

namespace dropd::config::detail {

struct Position {
  int line = 0;  // 1-based, 0 = unknown
  int col = 0;
};

[[nodiscard]] Position positionOf(const YAML::Node& node);

// The diagnostics of one file, plus where each key path was found so that
// checks across keys (validate.cpp) can point at the right line.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void add(Position at, std::string key_path, std::string message);
  void remember(const std::string& key_path, const YAML::Node& node);
  [[nodiscard]] Position positionOf(const std::string& key_path) const;
  [[nodiscard]] bool empty() const { return list_.empty(); }
  // Every diagnostic, sorted by position (file-level ones first).
  [[nodiscard]] std::vector<Diagnostic> take();

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
  std::map<std::string, Position, std::less<>> positions_;
};

struct Context {
  Diagnostics& diags;
  std::filesystem::path base_dir;  // relative paths are resolved against it

  void error(const YAML::Node& at, std::string key_path, std::string message) {
    diags.add(detail::positionOf(at), std::move(key_path), std::move(message));
  }
};

// "a mapping", "a list", "a scalar", "nothing": for "expected X, got Y".
[[nodiscard]] std::string_view describeType(const YAML::Node& node);

// The keys a mapping may hold.
struct KeySet {
  KeySet() = default;  // any key, no null values
  template <std::size_t N>
  KeySet(const std::array<std::string_view, N>& known) : names(known) {}  // NOLINT: implicit

  std::span<const std::string_view> names;  // empty: any key
  bool null_values = false;                 // true: `key:` with no value is fine (params)
};

// One YAML mapping with a fixed set of keys. The constructor reports a value
// that is not a mapping, keys that are not strings, duplicate keys and
// unknown keys (with the nearest known one as a hint).
class MapReader {
 public:
  MapReader(Context& ctx, const YAML::Node& node, std::string path, KeySet keys);

  [[nodiscard]] bool isMapping() const { return is_mapping_; }
  // The value under `key` (remembered under pathOf(key)), or an undefined node.
  [[nodiscard]] YAML::Node find(std::string_view key) const;
  // Reports "missing required key" at the mapping when `key` is absent.
  [[nodiscard]] YAML::Node require(std::string_view key) const;
  [[nodiscard]] std::string pathOf(std::string_view key) const;
  [[nodiscard]] Context& ctx() const { return ctx_; }
  [[nodiscard]] const YAML::Node& node() const { return node_; }
  // Every key and value in file order (first of each duplicate only).
  [[nodiscard]] const std::vector<std::pair<std::string, YAML::Node>>& entries() const {
    return entries_;
  }

 private:
  Context& ctx_;
  YAML::Node node_;
  std::string path_;
  bool is_mapping_ = false;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
  std::vector<std::string> valueless_;  // keys written with no value (already reported)
};

// Readers of one value at `path`. Each returns nullopt after reporting.
using Path = const std::string&;
[[nodiscard]] std::optional<std::string> readString(Context& ctx, const YAML::Node& node,
                                                    Path path);
[[nodiscard]] std::optional<std::string> readNonEmptyString(Context& ctx, const YAML::Node& node,
                                                            Path path);
[[nodiscard]] std::optional<bool> readBool(Context& ctx, const YAML::Node& node, Path path);
[[nodiscard]] std::optional<std::chrono::milliseconds> readDuration(Context& ctx,
                                                                    const YAML::Node& node,
                                                                    Path path);
[[nodiscard]] std::optional<std::uint64_t> readSize(Context& ctx, const YAML::Node& node,
                                                    Path path);
[[nodiscard]] std::optional<std::filesystem::path> readPath(Context& ctx, const YAML::Node& node,
                                                            Path path);
// Endpoint and pipeline names: 1 to 64 of A-Z a-z 0-9 _ -, so they can be
// metric labels, key paths and file names as they are.
[[nodiscard]] bool isValidName(std::string_view name);
[[nodiscard]] std::optional<std::string> readName(Context& ctx, const YAML::Node& node, Path path);
[[nodiscard]] std::optional<std::vector<std::string>> readStringList(Context& ctx,
                                                                     const YAML::Node& node,
                                                                     Path path);

struct IntRange {
  std::uint64_t min = 0;
  std::uint64_t max = UINT32_MAX;
};
[[nodiscard]] std::optional<std::uint64_t> readUInt(Context& ctx, const YAML::Node& node, Path path,
                                                    IntRange range);

// A closed set of names, e.g. {{"skip", kSkip}, {"send", kSend}}.
template <typename E>
using EnumTable = std::span<const std::pair<std::string_view, E>>;

[[nodiscard]] std::optional<std::size_t> readChoice(Context& ctx, const YAML::Node& node, Path path,
                                                    std::span<const std::string_view> names);

template <typename E>
[[nodiscard]] std::optional<E> readEnum(Context& ctx, const YAML::Node& node, Path path,
                                        EnumTable<E> table) {
  std::vector<std::string_view> names;
  for (const auto& entry : table) {
    names.push_back(entry.first);
  }
  const auto index = readChoice(ctx, node, path, names);
  return index ? std::optional<E>(table[*index].second) : std::nullopt;
}

// Reads map[key] with `read` into `out` when the key is present; a bad value
// leaves `out` at its default (the diagnostic is already recorded).
template <typename T, typename ReadFn>
void readField(const MapReader& map, std::string_view key, T& out, ReadFn read) {
  const YAML::Node node = map.find(key);
  if (!node.IsDefined()) {
    return;
  }
  if (auto value = read(map.ctx(), node, map.pathOf(key))) {
    out = std::move(*value);
  }
}

}  // namespace dropd::config::detail
