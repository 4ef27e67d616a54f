#pragma once

// The ledger's count of extraction tries (table extract_tries, schema v3):
// how many times a file version was handed to a dropd-extract helper
// without its extraction ending. A try is written and committed BEFORE the
// file goes to a helper, so a file that crashes the helper, or dropd
// itself (killed mid-file), is counted even across restarts; after
// max_tries the file fails instead of looping. Ledger::record() deletes
// the row in the transaction that records the file's end.
//
// Threads: every call blocks (SQLite, fsync) and belongs on the threadpool.
// Calls may come from several pool threads at once (every pipeline shares
// one), so a mutex guards the connection: tries are rare (files that are
// not text) and each is one short transaction. Its own read-write
// connection to ledger.db: WAL lets it write beside the Sink's Ledger, one
// writer at a time (busy_timeout waits).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"
#include "dropd/file/reader.hpp"

struct sqlite3;

namespace dropd::pipeline {

class ExtractTries {
 public:
  struct Key {
    std::string pipeline;
    std::string rel;
    file::FileIdentity identity;
  };
  struct Try {
    bool allowed = true;      // false: max_tries reached, the file fails
    std::uint32_t tries = 0;  // tries counted before this one
    std::string last_error;   // why the last counted try ended ("" if unknown)
  };

  // Opens ledger.db read-write; Ledger::open() must have brought it to v3.
  [[nodiscard]] static Result<std::unique_ptr<ExtractTries>> open(
      const std::filesystem::path& ledger_path);
  ~ExtractTries();
  ExtractTries(const ExtractTries&) = delete;
  ExtractTries& operator=(const ExtractTries&) = delete;

  // One transaction: reads the count; below `max_tries` it counts one more
  // try and commits (durable when this returns) before answering allowed.
  // `last_error` is why the previous try of this run ended (empty when this
  // run has not tried the file yet: a count found then means tries ended
  // by dropd stopping, and last_error says so).
  [[nodiscard]] Result<Try> begin(const Key& key, std::uint32_t max_tries,
                                  std::string_view last_error);
  // The try just begun did not happen (dropd stopped before it ended): one less.
  [[nodiscard]] Status undo(const Key& key);
  // The count now (tests and /files).
  [[nodiscard]] Result<std::uint32_t> count(const Key& key);

 private:
  ExtractTries(std::filesystem::path path, sqlite3* db);
  [[nodiscard]] Status exec(const char* sql, const char* what);
  const std::filesystem::path path_;
  sqlite3* db_;
  std::mutex mutex_;  // see the header comment
};

}  // namespace dropd::pipeline
