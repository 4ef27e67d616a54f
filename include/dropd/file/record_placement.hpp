#pragma once

// Putting a finished record (result or error JSON) at its name without ever
// destroying a file that is not ours. A record may replace only an earlier
// record of the same version of the same source: its "source" object (path,
// size, mtime, sha256) is the same, as when a crash cut a job off between
// its record and its ledger row and the file was sent again. Any other file
// at that name (a user's "x.json", the record of another source, or of an
// earlier version of this one: a file written again under the same name)
// is kept, and the record goes to "<stem>.N<ext>" instead, where ext is
// ".error.json" or ".json". Every name is fitted to NAME_MAX by the rule of
// file_name.hpp, so a source name of up to 255 bytes gets a record too.
// Blocking; threadpool only.

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
// the record's "source" object as JSON text.
[[nodiscard]] Placement placeRecord(const std::filesystem::path& temp,
                                    const std::filesystem::path& wanted, std::string_view owner);

// True when `path` is a dropd record whose "source" object equals `owner`.
[[nodiscard]] bool isRecordOf(const std::filesystem::path& path, std::string_view owner);

}  // namespace dropd::file
