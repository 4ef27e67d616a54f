#pragma once

// The ledger's answers of long documents' chunks (table chunk_answers,
// schema v4; docs/chunking.md): each map or reduce answer of a chunked
// document is written as soon as it comes, so a crash or a restart sends
// only the chunks that had none. Keyed by the pipeline, the content's
// sha256 and the prompt version: a file saved again with other content,
// or a changed prompt, gets new chunks; the same content under another
// name finds them. The Pipeline forgets a document's answers once its
// record is committed.
//
// Threads: every call blocks (SQLite) and belongs on the threadpool; the
// owner (SqliteLedgerStore) lends the connection to one work at a time.
// Its own read-write connection to ledger.db: WAL lets it write beside the
// Sink's Ledger, one writer at a time (busy_timeout waits).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "dropd/base/error.hpp"

struct sqlite3;

namespace dropd::pipeline {

// One document version under one prompt version.
struct ChunkKey {
  std::string pipeline;
  std::string sha256;          // of the file's content, lowercase hex
  std::string prompt_version;  // prompt_version.hpp
};

// One answer: level 0 is the map over the chunks, level N the Nth reduce
// round; `index` counts from 0 within its level.
struct ChunkAnswer {
  std::uint32_t level = 0;
  std::uint32_t index = 0;
  std::string text;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  bool operator==(const ChunkAnswer&) const = default;
};

class ChunkAnswers {
 public:
  // Opens ledger.db read-write; Ledger::open() must have brought it to v4.
  [[nodiscard]] static Result<std::unique_ptr<ChunkAnswers>> open(
      const std::filesystem::path& ledger_path);
  ~ChunkAnswers();
  ChunkAnswers(const ChunkAnswers&) = delete;
  ChunkAnswers& operator=(const ChunkAnswers&) = delete;

  // Every answer of `key`, by level and index.
  [[nodiscard]] Result<std::vector<ChunkAnswer>> load(const ChunkKey& key);
  // Inserts or replaces one answer (one transaction).
  [[nodiscard]] Status record(const ChunkKey& key, const ChunkAnswer& answer);
  // Removes every answer of `key`; says how many.
  [[nodiscard]] Result<std::size_t> forget(const ChunkKey& key);

 private:
  ChunkAnswers(std::filesystem::path path, sqlite3* db);
  [[nodiscard]] tl::unexpected<Error> failed(const char* what) const;
  const std::filesystem::path path_;
  sqlite3* db_;
};

}  // namespace dropd::pipeline
