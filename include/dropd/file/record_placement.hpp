#pragma once

// Putting a finished record (result or error JSON) at its name without ever
// destroying a file that is not ours. A record may replace an earlier dropd
// record of the same source (the newest result wins); any other file at that
// name (a user's file that happens to be called "x.json", or the record of a
// different source) is kept, and the record goes to "<stem>.N<ext>" instead,
// where ext is ".error.json" or ".json". Blocking; threadpool only.

#include <filesystem>
#include <string>
#include <string_view>

namespace dropd::file {

struct Placement {
  bool ok = false;
  std::filesystem::path placed;  // where the record is now
  int err = 0;                   // errno when !ok
  std::string error;             // "rename(PATH): reason" when !ok
};

// Renames `temp` to `wanted` or to the first free suffixed name; `owner` is
// the source's path as the record's "source.path" holds it.
[[nodiscard]] Placement placeRecord(const std::filesystem::path& temp,
                                    const std::filesystem::path& wanted, std::string_view owner);

// True when `path` is a dropd record whose "source.path" is `owner`.
[[nodiscard]] bool isRecordOf(const std::filesystem::path& path, std::string_view owner);

}  // namespace dropd::file
