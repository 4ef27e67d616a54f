#include "dropd/file/commit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <system_error>

#include "dropd/file/file_name.hpp"
#include "dropd/file/reader.hpp"
#include "dropd/file/record_placement.hpp"

namespace dropd::file {
namespace {

namespace fs = std::filesystem;

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
fs::path tempPathFor(const fs::path& final_path, const fs::path& source) {
  const auto tag = static_cast<std::uint32_t>(stableHash(source.native()));
  return final_path.parent_path() / tempNameFor(final_path.filename().native(), tag);
}

fs::path recordTempFor(const CommitItem& item) {
  return tempPathFor(item.record_path, item.source);
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

// Copy, flush, then rename: for a done folder on another file system.
bool copyAcross(const fs::path& from, const fs::path& to, std::string& error) {
  const fs::path temp = tempPathFor(to, from);
  std::error_code ec;
  fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    error = "copy(" + from.string() + "): " + ec.message();
    return false;
  }
  const int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) {
    ::close(fd);
  }
  if (!synced || ::rename(temp.c_str(), to.c_str()) != 0) {
    error = errnoText("rename", temp, errno);
    ::unlink(temp.c_str());
    return false;
  }
  if (::unlink(from.c_str()) != 0) {
    error = errnoText("unlink", from, errno);
    return false;
  }
  return true;
}

// rename without replacing: renameat2(RENAME_NOREPLACE), trying ".1", ".2"...
bool moveSource(const fs::path& from, const fs::path& to, fs::path& moved_to, std::string& error) {
  if (makeDirs(to.parent_path(), error) != 0) {
    return false;
  }
  for (int n = 0; n < 10000; ++n) {
    moved_to =
        n == 0 ? to : to.parent_path() / fitName(to.filename().native(), "." + std::to_string(n));
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, moved_to.c_str(), RENAME_NOREPLACE) == 0) {
      return true;
    }
    if (errno == EXDEV) {
      return !fs::exists(moved_to) ? copyAcross(from, moved_to, error) : false;
    }
    if (errno != EEXIST) {
      error = errnoText("rename", from, errno);
      return false;
    }
  }
  error = "rename(" + from.string() + "): no free name at " + to.string();
  return false;
}

// What is at the source path now, against the version the record is of.
enum class SourceNow { kSame, kChanged, kGone };

SourceNow sourceNow(const CommitItem& item) {
  FileIdentity now;
  std::string ignored;
  const ReadStatus status = statFile(item.source, now, ignored);
  if (status == ReadStatus::kVanished) {
    return SourceNow::kGone;
  }
  if (item.identity.ino == 0) {
    return SourceNow::kSame;  // never opened (a symlink, say): nothing to tell versions apart by
  }
  // lstat fills the identity of whatever is there (a fifo read as one is
  // the same fifo). If lstat fails, the disposal's own call reports why.
  const bool stat_ok = status == ReadStatus::kOk || status == ReadStatus::kNotRegular;
  return !stat_ok || now == item.identity ? SourceNow::kSame : SourceNow::kChanged;
}

// The rename that just moved the source took the version the record is
// of, unless a new one replaced it between the check and the rename (a
// window of microseconds); then that one goes back where it was. False
// only when it could not (its name was taken again), with `error` set.
bool moveBackOtherVersion(const CommitItem& item, CommitOutcome& out) {
  FileIdentity now;
  std::string ignored;
  if (item.identity.ino == 0 || statFile(out.moved_to, now, ignored) != ReadStatus::kOk ||
      now.dev != item.identity.dev || now.ino == item.identity.ino) {
    return true;  // the same inode, or a copy to another file system (checked before it)
  }
  if (::renameat2(AT_FDCWD, out.moved_to.c_str(), AT_FDCWD, item.source.c_str(),
                  RENAME_NOREPLACE) != 0) {
    out.error = errnoText("rename", out.moved_to, errno) +
                " (a version saved while this one was in flight was moved here unsent)";
    return false;
  }
  out.source_changed = true;
  out.moved_to.clear();
  return true;
}

// Moves or removes the source, but only the version that was read: a file
// saved again while its first version was in flight is a new job (the
// pipeline finds it again), never moved or deleted unsent.
void disposeSource(const CommitItem& item, CommitOutcome& out, std::set<fs::path>& dirty) {
  switch (sourceNow(item)) {
    case SourceNow::kSame:
      break;
    case SourceNow::kChanged:
      out.source_changed = true;
      out.source_disposed = true;  // nothing is left to do for the version read
      return;
    case SourceNow::kGone:
      // Moved or deleted by someone else: nothing is left to do, but a
      // source that was to be moved says so (the operator may miss it),
      // unless it is a recovery's, which its own job may have moved.
      out.source_disposed = item.disposal != Disposal::kMove || item.record_written_before;
      if (!out.source_disposed) {
        out.error = errnoText("rename", item.source, ENOENT);
      }
      return;
  }
  switch (item.disposal) {
    case Disposal::kKeep:
      out.source_disposed = true;
      return;
    case Disposal::kDelete:
      out.source_disposed = ::unlink(item.source.c_str()) == 0 || errno == ENOENT;
      if (!out.source_disposed) {
        out.error = errnoText("unlink", item.source, errno);
      }
      break;
    case Disposal::kMove:
      out.source_disposed = moveSource(item.source, item.move_to, out.moved_to, out.error) &&
                            moveBackOtherVersion(item, out);
      if (out.source_changed) {
        return;
      }
      dirty.insert(out.moved_to.parent_path());
      break;
  }
  dirty.insert(item.source.parent_path());
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
      Placement placed = placeRecord(temp, items[i].record_path, items[i].owner);
      if (!placed.ok) {
        out[i].error_errno = placed.err;
        fail(i, std::move(placed.error));
        continue;
      }
      out[i].placed_at = std::move(placed.placed);
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

std::size_t removeStaleTemps(const fs::path& dir) {
  constexpr std::string_view kSuffix = ".dropd-tmp";
  std::size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > kSuffix.size() && name.front() == '.' &&
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0 &&
        ::unlink(it->path().c_str()) == 0) {
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

void disposeSources(const std::vector<CommitItem>& items, std::vector<CommitOutcome>& outcomes) {
  std::set<fs::path> source_dirs;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (outcomes[i].record_written) {
      disposeSource(items[i], outcomes[i], source_dirs);
    }
  }
  for (const fs::path& dir : source_dirs) {
    std::string ignored;  // a lost folder sync only risks a redo after power loss
    (void)syncDir(dir, /*whole_fs=*/false, ignored);
  }
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
