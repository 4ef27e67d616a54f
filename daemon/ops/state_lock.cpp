#include "dropd/ops/state_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace dropd::ops {
namespace {

namespace fs = std::filesystem;

// The holder's pid as it wrote it, or "unknown" while it has the lock but
// has not written yet (or wrote something else).
std::string holderOf(int fd) {
  std::array<char, 32> buf{};
  const ssize_t n = ::pread(fd, buf.data(), buf.size() - 1, 0);
  std::string text(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  return digits ? text : "unknown";
}

tl::unexpected<Error> inUse(const fs::path& state_dir, const fs::path& path, int fd) {
  return makeError(ErrorCode::kInvalid,
                   fmt::format("state_dir {} is in use by dropd pid {} (lock {}); stop it first "
                               "or give this one another state_dir",
                               state_dir.string(), holderOf(fd), path.string()));
}

// Replaces what an earlier holder wrote with our pid. Only for the message
// of the next process, so a failure here does not give the lock up.
void writePid(int fd) {
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) == 0) {
    (void)::pwrite(fd, pid.data(), pid.size(), 0);
  }
}

}  // namespace

Result<StateLock> StateLock::acquire(const fs::path& state_dir) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) {
    return sysError(ec.value(), fmt::format("cannot create state_dir {}", state_dir.string()));
  }
  fs::path path = state_dir / kFileName;
  // O_CLOEXEC: a child we start must not hold the lock after we are gone.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return sysError(errno, fmt::format("state_dir {}: open({})", state_dir.string(), path.string()));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    auto error = err == EWOULDBLOCK ? inUse(state_dir, path, fd)
                                    : sysError(err, fmt::format("state_dir {}: flock({})",
                                                                state_dir.string(), path.string()));
    ::close(fd);
    return error;
  }
  writePid(fd);
  return StateLock(std::move(path), fd);
}

StateLock::StateLock(StateLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

}  // namespace dropd::ops
