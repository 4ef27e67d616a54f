#pragma once

// Where a file's records go when a pipeline watches several roots: its
// relative path (the ledger key, the records' `source.path`, the path below
// output.dir and the done and failed folders) starts with a prefix that tells
// its root apart from the pipeline's other roots. Pure; any thread.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dropd::config {

// One prefix per root, in order: "" for a lone root; otherwise each root's
// shortest run of trailing path components, each followed by '/', such that
// no root's prefix equals another's or begins another's (component by
// component). So "/a/in", "/b/out" give "in/" and "out/" (the folder's name,
// as dropd has always used), "/r1/x", "/r2/x" give "r1/x/" and "r2/x/", and
// no two files of different roots ever get the same relative path. Trailing
// slashes and "." are ignored. Roots that cannot be told apart (one the same
// as or inside another; validate refuses them) get their whole path.
[[nodiscard]] std::vector<std::string> recordPrefixes(std::span<const std::filesystem::path> roots);

// The root a relative record path belongs to: the index of the prefix it
// starts with, or nullopt when none does. With prefixes from recordPrefixes()
// of roots that validate accepts, at most one matches.
[[nodiscard]] std::optional<std::size_t> rootOfRecord(std::span<const std::string> prefixes,
                                                      std::string_view rel);

}  // namespace dropd::config
