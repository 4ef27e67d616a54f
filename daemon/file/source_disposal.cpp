// Moving or removing a committed job's source (file::disposeSources):
// only the version the record is of, never a file saved again since, and
// never replacing a file already in the done folder. Pool threads only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <system_error>

#include "dropd/file/commit.hpp"
#include "dropd/file/file_name.hpp"
#include "dropd/file/reader.hpp"

#include "commit_steps.hpp"

namespace dropd::file {
namespace {

namespace fs = std::filesystem;
using detail::errnoText;
using detail::makeDirs;
using detail::tempPathFor;

// Copy, flush, then rename: for a done folder on another file system.
bool copyAcross(const fs::path& from, const fs::path& to, std::string& error) {
  const fs::path temp = tempPathFor(to, from.native());
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

}  // namespace

void disposeSources(const std::vector<CommitItem>& items, std::vector<CommitOutcome>& outcomes) {
  std::set<fs::path> source_dirs;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (outcomes[i].record_written) {
      disposeSource(items[i], outcomes[i], source_dirs);
    }
  }
  for (const fs::path& dir : source_dirs) {
    std::string ignored;  // a lost folder sync only risks a redo after power loss
    (void)detail::syncDir(dir, /*whole_fs=*/false, ignored);
  }
}

}  // namespace dropd::file
