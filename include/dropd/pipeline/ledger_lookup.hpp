#pragma once

// Is this version of a file finished? A point look-up in the ledger on its
// unique key (pipeline, rel, dev, ino, size, mtime), over a read-only
// connection of its own, so a pipeline need not hold a row in memory for
// every file it finished and keeps in place: its memory does not grow with
// its history. WAL lets this read while the Sink's Ledger writes; a look-up
// sees every commit made before it starts.
//
// Threads: one thread at a time, and no lock makes it so: its owner
// (LookupQueue) lends it to one pool work at a time. Each look-up blocks on
// SQLite I/O, so it belongs on the threadpool. Errors name ledger.db.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/error.hpp"
#include "dropd/file/reader.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace dropd::pipeline {

class LedgerLookup {
 public:
  // What the row of a finished file says.
  struct Finished {
    bool done = true;                   // else failed
    std::filesystem::path result_path;  // its record
  };

  // Opens ledger.db read-only; Ledger::open() must have created it.
  [[nodiscard]] static Result<std::unique_ptr<LedgerLookup>> open(
      const std::filesystem::path& ledger_path);
  ~LedgerLookup();
  LedgerLookup(const LedgerLookup&) = delete;
  LedgerLookup& operator=(const LedgerLookup&) = delete;

  // The last row of a path, whatever version of the file it was, for
  // /files' answer about a finished file.
  struct History {
    bool done = true;  // else failed
    std::filesystem::path result_path;
    std::string source_moved_to;  // empty when the source stayed in place
    std::uint32_t attempts = 0;
    std::string last_error;       // masked as the record was
    std::int64_t updated_at = 0;  // unix seconds
  };

  // The row of this file version, or nullopt if it has none.
  [[nodiscard]] Result<std::optional<Finished>> find(std::string_view pipeline,
                                                     std::string_view rel,
                                                     const file::FileIdentity& identity);

  // The most recently updated row of (pipeline, rel), or nullopt.
  [[nodiscard]] Result<std::optional<History>> latest(std::string_view pipeline,
                                                      std::string_view rel);

  struct Key {
    std::string rel;
    file::FileIdentity identity;
  };
  // find() for each key, in one read transaction: a scan chunk's files cost
  // one WAL snapshot, not one each.
  [[nodiscard]] Result<std::vector<std::optional<Finished>>> findAll(std::string_view pipeline,
                                                                     std::span<const Key> keys);

 private:
  LedgerLookup(std::filesystem::path path, sqlite3* db, sqlite3_stmt* stmt);
  const std::filesystem::path path_;
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  sqlite3_stmt* latest_stmt_ = nullptr;  // prepared at the first latest()
};

}  // namespace dropd::pipeline
