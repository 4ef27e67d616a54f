#include "dropd/watch/inotify_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dropd::watch {
namespace {

constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF |
                                IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;

std::string join(const std::string& rel, const char* name) {
  return rel.empty() ? std::string(name) : rel + "/" + name;
}

}  // namespace

Result<std::unique_ptr<InotifyWatcher>> InotifyWatcher::create(uv_loop_t& loop,
                                                               std::filesystem::path root,
                                                               EventFn cb) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return sysError(errno, "inotify_init1");
  }
  auto poll = uv::Poll::create(loop, fd);
  if (!poll) {
    ::close(fd);
    return tl::unexpected(poll.error());
  }
  std::unique_ptr<InotifyWatcher> watcher(
      new InotifyWatcher(fd, std::move(root), std::move(cb), std::move(*poll)));
  InotifyWatcher* self = watcher.get();
  if (auto started = self->poll_.start(UV_READABLE, [self](Result<int>) { self->onReadable(); });
      !started) {
    return tl::unexpected(started.error());
  }
  return watcher;
}

InotifyWatcher::InotifyWatcher(int fd, std::filesystem::path root, EventFn cb, uv::Poll poll)
    : fd_(fd), root_(std::move(root)), cb_(std::move(cb)), poll_(std::move(poll)) {}

InotifyWatcher::~InotifyWatcher() {
  poll_.close();  // stops epoll on the fd at once, so closing it next is safe
  ::close(fd_);
}

Status InotifyWatcher::watchFolder(const std::string& rel) {
  const std::filesystem::path path = rel.empty() ? root_ : root_ / rel;
  const int wd = ::inotify_add_watch(fd_, path.c_str(), kMask);
  if (wd < 0) {
    return sysError(errno, "inotify_add_watch(" + path.string() + ")");
  }
  folders_[wd] = rel;  // the same folder twice gives the same wd
  return {};
}

void InotifyWatcher::onReadable() {
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      return;  // EAGAIN: drained (other errors: the next readiness retries)
    }
    for (ssize_t off = 0; off < n;) {
      inotify_event event{};
      std::memcpy(&event, buf + off, sizeof event);
      dispatch(event.wd, event.mask, event.len > 0 ? buf + off + sizeof event : "");
      off += static_cast<ssize_t>(sizeof event + event.len);
    }
  }
}

void InotifyWatcher::dispatch(int wd, std::uint32_t mask, const char* name) {
  if ((mask & IN_Q_OVERFLOW) != 0) {
    cb_({EventKind::kOverflow, {}});
    return;
  }
  const auto folder = folders_.find(wd);
  if (folder == folders_.end()) {
    return;  // an event still queued for a watch we dropped
  }
  const std::string rel = folder->second;
  if ((mask & IN_IGNORED) != 0) {
    folders_.erase(folder);
  } else if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
    cb_({EventKind::kFolderLost, rel});
  } else if ((mask & IN_ISDIR) != 0 && (mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
    cb_({EventKind::kFolderAppeared, join(rel, name)});
  } else if ((mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) != 0 && (mask & IN_ISDIR) == 0) {
    cb_({EventKind::kFileReady, join(rel, name)});
  }
}

}  // namespace dropd::watch
