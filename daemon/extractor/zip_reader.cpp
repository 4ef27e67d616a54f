// Zip entries with hard limits (zip_reader.hpp).
#include "zip_reader.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <array>
#include <memory>

#include "dropd/extractor/formats.hpp"

namespace dropd::extractor {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

tl::unexpected<Error> damaged(archive* a, std::string_view what) {
  const char* detail = archive_error_string(a);
  return makeError(ErrorCode::kInvalid, "zip: " + std::string(what) +
                                            (detail != nullptr ? ": " + std::string(detail) : ""));
}

// Reads the current entry into `out`, counting against `total`.
Status readEntry(archive* a, const std::string& name, std::string& out, std::uint64_t& total) {
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    const la_ssize_t n = archive_read_data(a, buffer.data(), buffer.size());
    if (n == 0) {
      return {};
    }
    if (n < 0) {
      return damaged(a, "entry " + name + " does not decompress");
    }
    total += static_cast<std::uint64_t>(n);
    if (out.size() + static_cast<std::size_t>(n) > kMaxZipEntryBytes) {
      return makeError(ErrorCode::kTooLarge, "zip entry " + name + " expands past " +
                                                 std::to_string(kMaxZipEntryBytes >> 20) +
                                                 " MiB (zip bomb?)");
    }
    if (total > kMaxZipTotalBytes) {
      return makeError(ErrorCode::kTooLarge, "zip entries expand past " +
                                                 std::to_string(kMaxZipTotalBytes >> 20) +
                                                 " MiB in total (zip bomb?)");
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace

Status streamZipEntry(Bytes bytes, const std::string& name,
                      const std::function<Status(const ZipRead&)>& consume) {
  const std::unique_ptr<archive, ArchiveFree> a{archive_read_new()};
  if (!a || archive_read_support_format_zip(a.get()) != ARCHIVE_OK ||
      archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return damaged(a.get(), "not a zip archive");
  }
  for (std::size_t entries = 0; entries < kMaxZipEntries; ++entries) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc < ARCHIVE_WARN) {
      return damaged(a.get(), "bad entry header");
    }
    const char* entry_name = archive_entry_pathname(entry);
    if (entry_name == nullptr || name != entry_name) {
      if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) {
        return damaged(a.get(), "an entry cannot be skipped");
      }
      continue;
    }
    std::uint64_t total = 0;
    return consume([&a, &total](char* buffer, std::size_t n) -> long {
      const la_ssize_t got = archive_read_data(a.get(), buffer, n);
      total += got > 0 ? static_cast<std::uint64_t>(got) : 0;
      return total > kMaxZipStreamedEntryBytes ? -1 : static_cast<long>(got);
    });
  }
  return makeError(ErrorCode::kInvalid, "zip: no entry " + name);
}

Result<ZipContents> readZip(Bytes bytes, const std::function<bool(std::string_view)>& wanted) {
  const std::unique_ptr<archive, ArchiveFree> a{archive_read_new()};
  if (!a || archive_read_support_format_zip(a.get()) != ARCHIVE_OK ||
      archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return damaged(a.get(), "not a zip archive");
  }
  ZipContents contents;
  std::uint64_t total = 0;
  for (;;) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) {
      return contents;
    }
    if (rc < ARCHIVE_WARN) {
      return damaged(a.get(), "bad entry header");
    }
    if (contents.names.size() >= kMaxZipEntries) {
      return makeError(ErrorCode::kTooLarge,
                       "zip with more than " + std::to_string(kMaxZipEntries) + " entries");
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name != nullptr ? raw_name : "";
    if (wanted(name) && contents.entries.count(name) == 0) {
      std::string data;
      if (auto read = readEntry(a.get(), name, data, total); !read) {
        return tl::unexpected(read.error());
      }
      contents.entries.emplace(name, std::move(data));
    } else if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) {
      return damaged(a.get(), "entry " + name + " cannot be skipped");
    }
    contents.names.push_back(std::move(name));
  }
}

}  // namespace dropd::extractor
