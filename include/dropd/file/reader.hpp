#pragma once

// Reading one file whole for sending, with its stats computed in the same
// pass (the chunk just read is measured while it is still in cache).
// Blocking: runs on the libuv threadpool (pipeline passes it by value through
// uv::queueWork), never on the loop thread. Pure apart from the file system.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "dropd/file/stats.hpp"

namespace dropd::file {

// Who a file is: changes to any of these mean a different file or new content.
struct FileIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
  bool operator==(const FileIdentity&) const = default;
};

enum class ReadStatus {
  kOk,          // content and stats are filled
  kVanished,    // deleted or renamed away before we opened it
  kNotRegular,  // a symlink, folder, fifo, device...: never read (a symlink could point anywhere)
  kTooLarge,    // over max_bytes: not read
  kUnsettled,   // modified after `settled_before`: still being written, try again later
  kChanged,     // modified while we read it: try again later
  kError,       // any other system error, in `error`
};

struct ReadRequest {
  std::filesystem::path path;
  std::uint64_t max_bytes = 0;
  // A file whose mtime is later than this is still being written.
  std::chrono::system_clock::time_point settled_before;
  // The file as an earlier look saw it (polled folders): a file that is no
  // longer the same is still being written (kUnsettled), whatever its mtime
  // says; a share's cached or skewed mtime alone is not trusted.
  std::optional<FileIdentity> seen{};
  // False when no one will use a binary file's bytes (the pipeline skips
  // binaries, or hands them to dropd-extract, which reads the file
  // itself): from the first chunk that holds a NUL byte on, the content
  // is dropped and the rest is only measured through one chunk-sized
  // buffer, so a 100 MiB spreadsheet costs 256 KiB here, not 100 MiB.
  // Its stats (size, sha256, binary) are the same either way.
  bool keep_binary = true;
};

struct ReadOutcome {
  ReadStatus status = ReadStatus::kError;
  FileIdentity identity;  // from fstat; zero for kVanished
  std::string content;    // kOk only; empty when binary and not keep_binary
  Stats stats;            // kOk only
  std::string error;      // kError: "open(PATH): reason"
};

[[nodiscard]] ReadOutcome readWhole(const ReadRequest& request);

// stat(2) without following a symlink, as a FileIdentity; kVanished,
// kNotRegular or kError in `status` otherwise.
[[nodiscard]] ReadStatus statFile(const std::filesystem::path& path, FileIdentity& identity,
                                  std::string& error);

[[nodiscard]] std::string_view toString(ReadStatus status);

}  // namespace dropd::file
