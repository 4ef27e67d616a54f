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

// Streams one entry, `name`, to `consume` without holding it: the read
// function it gets returns up to n bytes (0 at the end, < 0 when the entry
// does not decompress or passes kMaxZipStreamedEntryBytes). kInvalid when
// the archive is damaged or has no such entry; else what `consume` returns.
using ZipRead = std::function<long(char*, std::size_t)>;
[[nodiscard]] Status streamZipEntry(Bytes bytes, const std::string& name,
                                    const std::function<Status(const ZipRead&)>& consume);

}  // namespace dropd::extractor
