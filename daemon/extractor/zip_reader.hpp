#pragma once

// The entries of a zip in memory (DOCX, ODT, EPUB, ...), read through
// libarchive with hard limits: at most kMaxZipEntries entries, each read
// entry at most kMaxZipEntryBytes uncompressed, all read entries together at
// most kMaxZipTotalBytes. Blocking; any thread.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/error.hpp"
#include "dropd/extractor/extractor.hpp"

namespace dropd::extractor {

struct ZipContents {
  std::vector<std::string> names;              // every entry, in archive order
  std::map<std::string, std::string> entries;  // the wanted ones, uncompressed
};

// kTooLarge when a limit is passed (a zip bomb), kInvalid when the archive
// or an entry is damaged or encrypted.
[[nodiscard]] Result<ZipContents> readZip(Bytes bytes,
                                          const std::function<bool(std::string_view)>& wanted);

}  // namespace dropd::extractor
