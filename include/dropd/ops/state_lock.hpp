#pragma once

// One dropd per state_dir. Two processes working on one state_dir (a second
// daemon, or `dropd --once` while the service runs) rename each other's temp
// records and both send the same files (issue 10), so each takes
// flock(LOCK_EX | LOCK_NB) on state_dir/dropd.lock before it touches
// anything there, holds it for its whole life (a SIGHUP reload keeps the
// state_dir and the lock), and writes its pid into the file for the error
// message of the next one. The kernel drops the lock with the last open
// descriptor, so a killed dropd leaves no stale lock behind, only a file
// that the next one reuses. Startup only (blocking calls); one owner.

#include <filesystem>

#include "dropd/base/error.hpp"

namespace dropd::ops {

class StateLock {
 public:
  static constexpr const char* kFileName = "dropd.lock";

  // Creates state_dir when it is missing, then takes the lock. Errors:
  // kInvalid "state_dir X is in use by dropd pid N (lock X/dropd.lock); ..."
  // when another process holds it, else kSystem naming the call and path.
  [[nodiscard]] static Result<StateLock> acquire(const std::filesystem::path& state_dir);

  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();  // closes the file, which releases the lock

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  StateLock(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::filesystem::path path_;
  int fd_ = -1;  // -1 once moved from
};

}  // namespace dropd::ops
