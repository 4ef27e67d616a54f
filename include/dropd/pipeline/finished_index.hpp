#pragma once

// What one pipeline knows in memory about files it finished, besides the
// ledger: finished files that have no ledger row to look up, the content
// hashes for dedupe, and which paths were committed while a scan chunk was
// on the threadpool. Keys are record rels (Job::rel: the root's record
// prefix + the path below the root), the ledger's key too. Owned by the
// Pipeline; its Intake reads and writes it too. Loop thread only.

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "dropd/file/reader.hpp"

namespace dropd::pipeline {

// A file this pipeline finished (this run or, from the ledger, before).
struct Finished {
  file::FileIdentity identity;
  bool done = true;                   // else failed
  std::filesystem::path record_path;  // where its record is
};

class FinishedIndex {
 public:
  // Finished files whose source stays in place and that have no ledger row
  // to look up: every such file without a ledger, and with one only those
  // whose record or row could not be written. Rescans do not send them
  // again while they are unchanged.
  [[nodiscard]] const Finished* find(const std::string& record_rel) const;
  void remember(const std::string& record_rel, Finished finished);
  void forget(const std::string& record_rel) { finished_.erase(record_rel); }

  // dedupe: sha256: the result of the first file with this content.
  [[nodiscard]] std::optional<std::filesystem::path> duplicateOf(const std::string& sha256) const;
  // Keeps the first result for a hash (rows come oldest first).
  void addHash(const std::string& sha256, const std::filesystem::path& result);

  // A scan chunk's ledger look-up runs on the pool from chunkStarted() to
  // chunkEnded(): a row committed meanwhile may have been missed, so such
  // paths are looked up again before they are read.
  void chunkStarted();
  void chunkEnded() { chunk_open_ = false; }
  void committed(const std::string& record_rel);
  [[nodiscard]] bool committedDuringChunk(const std::string& record_rel) const {
    return committed_during_chunk_.contains(record_rel);
  }

 private:
  std::unordered_map<std::string, Finished> finished_;
  std::unordered_map<std::string, std::filesystem::path> done_by_sha_;
  std::unordered_set<std::string> committed_during_chunk_;
  bool chunk_open_ = false;
};

}  // namespace dropd::pipeline
