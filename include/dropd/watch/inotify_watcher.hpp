#pragma once

// Reads inotify itself (its fd polled by uv_poll) instead of using libuv's
// fs-event watcher, which drops IN_Q_OVERFLOW and never reports
// close-after-write (docs/architecture.md). Loop thread only.
//
// Events are hints: a file reported ready still goes through the settle
// check, and an overflow or a lost folder asks the owner for a rescan.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/uv/poll.hpp"

namespace dropd::watch {

class InotifyWatcher {
 public:
  enum class EventKind {
    kFileReady,       // a file was closed after writing, or moved in
    kFolderAppeared,  // a folder was created or moved in: watch and scan it
    kFolderLost,      // a watched folder was deleted or moved away
    kOverflow,        // the kernel dropped events: rescan everything
  };
  struct Event {
    EventKind kind;
    std::string rel;  // relative to the root; empty for kOverflow
  };
  using EventFn = std::function<void(const Event&)>;

  // `root` is the watched tree's absolute path; `cb` may not destroy the watcher.
  [[nodiscard]] static Result<std::unique_ptr<InotifyWatcher>> create(uv_loop_t& loop,
                                                                      std::filesystem::path root,
                                                                      EventFn cb);
  ~InotifyWatcher();
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  // Adds a watch on root/rel ("" for the root). An error with sys UV_ENOSPC
  // means fs.inotify.max_user_watches is reached.
  [[nodiscard]] Status watchFolder(const std::string& rel);
  [[nodiscard]] std::size_t watchCount() const { return folders_.size(); }

 private:
  InotifyWatcher(int fd, std::filesystem::path root, EventFn cb, uv::Poll poll);
  void onReadable();
  void dispatch(int wd, std::uint32_t mask, const char* name);

  int fd_;
  std::filesystem::path root_;
  EventFn cb_;
  uv::Poll poll_;
  std::unordered_map<int, std::string> folders_;  // watch descriptor -> rel
};

}  // namespace dropd::watch
