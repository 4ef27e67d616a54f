#pragma once

// The file-system steps that commit.cpp (records) and source_disposal.cpp
// (sources) share. Blocking calls: pool threads only. Private to the file
// module.

#include <filesystem>
#include <string>
#include <string_view>

namespace dropd::file::detail {

// "call(path): strerror(err)".
[[nodiscard]] std::string errnoText(const char* call, const std::filesystem::path& path, int err);
// Creates `dir` and its parents. Returns 0, or the errno of the failure
// with `error` set.
[[nodiscard]] int makeDirs(const std::filesystem::path& dir, std::string& error);
// The temp file beside `final_path` for a record or a copied source of `source`.
[[nodiscard]] std::filesystem::path tempPathFor(const std::filesystem::path& final_path,
                                                std::string_view source);
// fsync of the folder (`whole_fs`: syncfs of its file system). False with
// `error` set when it fails.
[[nodiscard]] bool syncDir(const std::filesystem::path& dir, bool whole_fs, std::string& error);

}  // namespace dropd::file::detail
