#include "dropd/file/commit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "dropd/file/file_name.hpp"
#include "dropd/file/reader.hpp"
#include "dropd/file/record_placement.hpp"

#include "commit_steps.hpp"

namespace dropd::file {

namespace fs = std::filesystem;

namespace detail {

std::string errnoText(const char* call, const fs::path& path, int err) {
  return std::string(call) + "(" + path.string() + "): " + std::strerror(err);
}

// Returns 0, or the errno of the failure with `error` set.
int makeDirs(const fs::path& dir, std::string& error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    error = "mkdir(" + dir.string() + "): " + ec.message();
    return ec.value() != 0 ? ec.value() : EIO;
  }
  return 0;
}

// A temp file sits beside its final name so the rename stays in one folder;
// its hidden name (file_name.hpp) keeps it out of include globs if output is
// ever watched. The tag is a hash of the source: two records may want the
// same final name (x.error.json: the error record of x and the result of
// x.error), and the Sink stages one batch while it places the one before,
// so each needs a temp of its own.
fs::path tempPathFor(const fs::path& final_path, std::string_view source) {
  const auto tag = static_cast<std::uint32_t>(stableHash(source));
  return final_path.parent_path() / tempNameFor(final_path.filename().native(), tag);
}

// fsync(2) on a folder makes the names created or renamed in it durable.
// `how` is syncfs for a whole file system or fsync for the folder alone.
bool syncDir(const fs::path& dir, bool whole_fs, std::string& error) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = errnoText("open", dir, errno);
    return false;
  }
  const int rc = whole_fs ? ::syncfs(fd) : ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    error = errnoText(whole_fs ? "syncfs" : "fsync", dir, err);
    return false;
  }
  return true;
}

}  // namespace detail

namespace {

using detail::errnoText;
using detail::makeDirs;
using detail::syncDir;
using detail::tempPathFor;

// A record's temp is tagged by its source's version too: in a fleet two
// instances may stage records of one path at once (the file saved again
// while in flight: one holds the old version, one the new), and neither
// may write or rename the other's temp. One version is held by one
// instance at a time, so a holder that takes a crashed one's file over
// writes over the same temp, and no temp of a kill lingers.
fs::path recordTempFor(const CommitItem& item) {
  const FileIdentity& id = item.identity;
  const auto mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(id.mtime.time_since_epoch()).count();
  return tempPathFor(item.record_path,
                     fmt::format("{}:{}:{}:{}", item.source.native(), id.ino, id.size, mtime_ns));
}

// Returns 0, or the errno of the failure with `error` set.
int writeFile(const fs::path& path, const std::string& data, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    error = errnoText("open", path, err);
    return err;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      error = errnoText("write", path, err);
      ::close(fd);
      ::unlink(path.c_str());
      return err;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    error = errnoText("close", path, err);
    ::unlink(path.c_str());
    return err;
  }
  return 0;
}

// One folder per file system: syncfs there flushes every temp file on it.
std::map<dev_t, fs::path> fileSystemsOf(const std::set<fs::path>& dirs) {
  std::map<dev_t, fs::path> by_dev;
  for (const fs::path& dir : dirs) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      by_dev.emplace(st.st_dev, dir);
    }
  }
  return by_dev;
}

// The phases of one batch; `staged[i]` says item i is still on its way.
struct Batch {
  const std::vector<CommitItem>& items;
  std::vector<CommitOutcome> out;
  std::vector<bool> staged;
  std::set<fs::path> record_dirs;

  void fail(std::size_t i, std::string error) {
    staged[i] = false;
    if (out[i].error.empty()) {
      out[i].error = std::move(error);
    }
    ::unlink(recordTempFor(items[i]).c_str());
  }

  void writeTemps() {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].record_written_before) {
        staged[i] = true;
        out[i].placed_at = items[i].record_path;
        continue;
      }
      const fs::path dir = items[i].record_path.parent_path();
      int err = makeDirs(dir, out[i].error);
      if (err == 0) {
        err = writeFile(recordTempFor(items[i]), items[i].record, out[i].error);
      }
      out[i].error_errno = err;
      staged[i] = err == 0;
      if (staged[i]) {
        record_dirs.insert(dir);
      }
    }
  }

  // One flush of every temp file's data, per file system.
  void flushTemps() {
    for (const auto& [dev, dir] : fileSystemsOf(record_dirs)) {
      std::string error;
      if (!syncDir(dir, /*whole_fs=*/true, error)) {
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (staged[i]) {
            fail(i, error);  // nothing is known to be on disk
          }
        }
      }
    }
  }

  void renameTemps() {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!staged[i] || items[i].record_written_before) {
        continue;
      }
      const fs::path temp = recordTempFor(items[i]);
      struct stat st {};
      const std::uint64_t ino = ::lstat(temp.c_str(), &st) == 0 ? st.st_ino : 0;
      Placement placed = placeRecord(temp, items[i].record_path, items[i].owner);
      if (!placed.ok) {
        out[i].error_errno = placed.err;
        fail(i, std::move(placed.error));
        continue;
      }
      out[i].placed_at = std::move(placed.placed);
      out[i].record_ino = ino;
    }
  }

  // The renames become durable with their folders; only then may a source go.
  void syncRecordDirs() {
    for (const fs::path& dir : record_dirs) {
      std::string error;
      if (syncDir(dir, /*whole_fs=*/false, error)) {
        continue;
      }
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (staged[i] && items[i].record_path.parent_path() == dir) {
          staged[i] = false;
          out[i].error = error;
        }
      }
    }
  }

  void markWritten() {
    for (std::size_t i = 0; i < items.size(); ++i) {
      out[i].record_written = staged[i];
    }
  }
};

}  // namespace

std::size_t removeStaleTemps(const fs::path& dir, std::chrono::seconds min_age) {
  constexpr std::string_view kSuffix = ".dropd-tmp";
  const std::time_t newest = std::time(nullptr) - static_cast<std::time_t>(min_age.count());
  std::size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= kSuffix.size() || name.front() != '.' ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    struct stat st {};
    if (min_age.count() > 0 && (::lstat(it->path().c_str(), &st) != 0 || st.st_mtime > newest)) {
      continue;  // young: another instance's batch may be placing it (fleet mode)
    }
    if (::unlink(it->path().c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

std::vector<CommitOutcome> stageRecords(const std::vector<CommitItem>& items) {
  Batch batch{
      items, std::vector<CommitOutcome>(items.size()), std::vector<bool>(items.size(), false), {}};
  batch.writeTemps();
  batch.flushTemps();
  for (std::size_t i = 0; i < items.size(); ++i) {
    batch.out[i].record_staged = batch.staged[i];
  }
  return std::move(batch.out);
}

void discardStagedRecord(const CommitItem& item, CommitOutcome& outcome) {
  if (outcome.record_staged && !item.record_written_before) {
    ::unlink(recordTempFor(item).c_str());
  }
  outcome.record_staged = false;
}

bool takeBackRecord(CommitOutcome& outcome, std::string& error) {
  if (outcome.placed_at.empty() || outcome.record_ino == 0) {
    return true;
  }
  const fs::path placed = std::exchange(outcome.placed_at, fs::path());
  const fs::path aside =
      placed.parent_path() / ("." + placed.filename().string() + ".dropd-takeback");
  if (::renameat2(AT_FDCWD, placed.c_str(), AT_FDCWD, aside.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == ENOENT) {
      return true;  // gone already
    }
    error = errnoText("rename", placed, errno);
    return false;
  }
  struct stat st {};
  if (::lstat(aside.c_str(), &st) == 0 && st.st_ino == outcome.record_ino) {
    ::unlink(aside.c_str());
    return true;
  }
  // The holder's record replaced ours in between: back where it was.
  if (::renameat2(AT_FDCWD, aside.c_str(), AT_FDCWD, placed.c_str(), RENAME_NOREPLACE) != 0) {
    error = errnoText("rename", aside, errno);
    return false;
  }
  return true;
}

void placeStagedRecords(const std::vector<CommitItem>& items,
                        std::vector<CommitOutcome>& outcomes) {
  Batch batch{items, std::move(outcomes), std::vector<bool>(items.size(), false), {}};
  for (std::size_t i = 0; i < items.size(); ++i) {
    batch.staged[i] = batch.out[i].record_staged;
    if (batch.staged[i] && !items[i].record_written_before) {
      batch.record_dirs.insert(items[i].record_path.parent_path());
    }
  }
  batch.renameTemps();
  batch.syncRecordDirs();
  batch.markWritten();
  outcomes = std::move(batch.out);
}

std::vector<CommitOutcome> commitBatch(const std::vector<CommitItem>& items,
                                       const BeforeDisposeFn& before_dispose) {
  std::vector<CommitOutcome> out = stageRecords(items);
  placeStagedRecords(items, out);
  std::string error;
  if (before_dispose && !before_dispose(out, error)) {
    for (CommitOutcome& o : out) {
      if (o.record_written) {
        o.error = error;  // every source stays where it is
      }
    }
    return out;
  }
  disposeSources(items, out);
  return out;
}

}  // namespace dropd::file
