#pragma once

// Making a batch of finished jobs durable: each job's result (or error
// record) is written to a temp file, the batch is flushed to disk once, the
// temps are renamed into place and their folders synced, and only then are
// the sources moved or removed. A crash at any point leaves either no result
// or a whole one, and never a moved source without its result.
//
// Durability is paid per batch, not per file (fsync costs ~0.7 ms here): one
// syncfs(2) per file system for all temp files, one fsync per distinct folder.
// Blocking: runs on the threadpool, never on the loop thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "dropd/file/reader.hpp"

namespace dropd::file {

enum class Disposal { kKeep, kMove, kDelete };

struct CommitItem {
  std::filesystem::path record_path;  // wanted path of the result or error record
  std::string record;                 // its whole content
  std::string owner;                  // the record's "source" as JSON (record_placement.hpp)
  std::filesystem::path source;       // the input file
  Disposal disposal = Disposal::kKeep;
  std::filesystem::path move_to;  // kMove: destination path of the source
  // Recovery after a crash: the record is already durable at record_path,
  // only the source is still to be disposed of.
  bool record_written_before = false;
  // The version of `source` the record is of. The source is moved, removed
  // (or, for kKeep, left) only while this is still the file at that path;
  // ino 0: unknown (never opened), not checked.
  FileIdentity identity{};
};

struct CommitOutcome {
  bool record_staged = false;       // stageRecords(): durable in its temp file, not yet in place
  bool record_written = false;      // the record is durable at placed_at
  std::filesystem::path placed_at;  // record_path, or a suffixed name if that was taken
  std::uint64_t record_ino = 0;     // the placed record's inode (takeBackRecord())
  int error_errno = 0;              // errno of the failure, 0 if none or unknown
  bool source_disposed = false;     // the source was moved/removed as asked (or kept)
  // Another version is at the source path now (saved again, or replaced,
  // while this one was in flight): it was left alone, and is a new job.
  bool source_changed = false;
  std::filesystem::path moved_to;  // where the source went (may carry a suffix, see below)
  std::string error;               // what failed, "call(path): reason"; empty on success
};

// One outcome per item, in order. A source whose record could not be written
// is left untouched. A record never replaces a file that is not an earlier
// record of the same source (record_placement.hpp). A move never replaces an existing file: when
// the destination exists, the source gets the suffix ".N" (the first free N).
// Runs after every record of the batch is durable and before any source
// moves (a durable step of the caller's goes there). Returning false keeps
// every source where it is; `error` then goes into each outcome.
using BeforeDisposeFn =
    std::function<bool(const std::vector<CommitOutcome>& outcomes, std::string& error)>;

[[nodiscard]] std::vector<CommitOutcome> commitBatch(const std::vector<CommitItem>& items,
                                                     const BeforeDisposeFn& before_dispose = {});

// commitBatch() in three steps, so a caller can stage the next batch's
// records while an earlier batch is placed, recorded and disposed of, and do
// its own durable step (the Sink's ledger commit) before the sources move.
// `items` and `outcomes` are index-aligned.
//  - stageRecords(): every record written to its temp file beside its final
//    name and flushed (record_staged, or error); nothing is visible yet, and
//    a crash leaves only temp files (removeStaleTemps);
//  - placeStagedRecords(): the staged temps renamed into place and their
//    folders synced (record_written, placed_at, or error);
//  - disposeSources(): the sources of the outcomes with record_written moved
//    or removed (source_disposed, moved_to, or error).
[[nodiscard]] std::vector<CommitOutcome> stageRecords(const std::vector<CommitItem>& items);
void placeStagedRecords(const std::vector<CommitItem>& items, std::vector<CommitOutcome>& outcomes);
// A staged record that must not be placed after all (fleet mode: its file
// is held by another instance now): its temp file is removed and
// record_staged cleared, so placeStagedRecords() and disposeSources() pass
// it by.
void discardStagedRecord(const CommitItem& item, CommitOutcome& outcome);
// A record placed whose row the fenced ledger then refused (fleet mode: its
// lease ran out meanwhile, another instance holds the file and writes its
// own outcome): the record at placed_at is taken away if it is still this
// one (its inode), so no second outcome stays beside the holder's. It is
// renamed aside first, so a holder's record that replaced it in between is
// put back, never removed. placed_at is cleared. False with `error` when a
// call failed (the record may stay).
bool takeBackRecord(CommitOutcome& outcome, std::string& error);
void disposeSources(const std::vector<CommitItem>& items, std::vector<CommitOutcome>& outcomes);

// Removes the temp files a crash can leave under `dir` (records that were
// never renamed into place, copies across file systems cut short); returns
// how many. Blocking; for startup.
// `min_age` > 0: only temps last written longer ago than that (fleet mode:
// the folder is shared with live instances whose batches are in flight).
std::size_t removeStaleTemps(const std::filesystem::path& dir,
                             std::chrono::seconds min_age = std::chrono::seconds(0));

}  // namespace dropd::file
