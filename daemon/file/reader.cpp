#include "dropd/file/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dropd::file {
namespace {

// Large enough to amortise the syscall, small enough that the chunk is still
// in L2 when the stats kernel reads it.
constexpr std::size_t kChunkBytes = 256 * 1024;

FileIdentity identityOf(const struct stat& st) {
  using std::chrono::system_clock;
  const auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return {
      static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
      static_cast<std::uint64_t>(st.st_size),
      system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(since_epoch))};
}

std::string errnoText(const char* call, const std::filesystem::path& path, int err) {
  return std::string(call) + "(" + path.string() + "): " + std::strerror(err);
}

ReadStatus statusOfOpenError(int err) {
  if (err == ENOENT || err == ENOTDIR) {
    return ReadStatus::kVanished;
  }
  return err == ELOOP ? ReadStatus::kNotRegular : ReadStatus::kError;
}

// Reads `want` bytes (at most) at `to`; the count, or -1 with errno set on
// a read error, or 0 (errno 0) when the file ended early.
ssize_t readChunk(int fd, char* to, std::size_t want) {
  for (;;) {
    const ssize_t n = ::read(fd, to, want);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n == 0) {
      errno = 0;
    }
    return n;
  }
}

// Reads exactly `size` bytes into `out`, measuring each chunk; false with
// errno set on a read error, or with errno 0 if the file got shorter.
// Without keep_binary, only the first chunk is allocated before it is
// read; the first chunk holding a NUL byte ends the keeping, and the rest
// is read through one chunk's buffer and measured, not kept.
bool readInto(int fd, std::uint64_t size, bool keep_binary, std::string& out,
              StatsAccumulator& stats) {
  std::uint64_t done = 0;
  bool keeping = true;
  out.resize(
      static_cast<std::size_t>(keep_binary ? size : std::min<std::uint64_t>(size, kChunkBytes)));
  while (done < size) {
    if (keeping && done > 0 && out.size() < size) {
      out.resize(static_cast<std::size_t>(size));  // no NUL so far: keep it all
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size - done));
    char* to = keeping ? out.data() + done : out.data();
    const ssize_t n = readChunk(fd, to, want);
    if (n <= 0) {
      return false;
    }
    const auto got = static_cast<std::size_t>(n);
    stats.feed(std::as_bytes(std::span(to, got)));
    done += got;
    if (keeping && !keep_binary && std::memchr(to, 0, got) != nullptr) {
      keeping = false;  // binary: no one needs the bytes, only their stats
      out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(size - done, kChunkBytes)));
      out.shrink_to_fit();
    }
  }
  if (!keeping) {
    out = {};
  }
  return true;
}

// After reading: the file must not have grown or been touched meanwhile.
bool unchangedSince(int fd, const FileIdentity& before) {
  char extra = 0;
  struct stat st {};
  return ::read(fd, &extra, 1) == 0 && ::fstat(fd, &st) == 0 && identityOf(st) == before;
}

void readOpen(int fd, const ReadRequest& request, ReadOutcome& out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.error = errnoText("fstat", request.path, errno);
    return;
  }
  out.identity = identityOf(st);
  if (!S_ISREG(st.st_mode)) {
    out.status = ReadStatus::kNotRegular;
  } else if (out.identity.size > request.max_bytes) {
    out.status = ReadStatus::kTooLarge;
  } else if (out.identity.mtime > request.settled_before ||
             (request.seen && *request.seen != out.identity)) {
    out.status = ReadStatus::kUnsettled;
  } else {
    StatsAccumulator stats;
    if (!readInto(fd, out.identity.size, request.keep_binary, out.content, stats)) {
      const int err = errno;  // 0: the file got shorter while we read it
      out.status = err == 0 ? ReadStatus::kChanged : ReadStatus::kError;
      out.error = err == 0 ? std::string() : errnoText("read", request.path, err);
      out.content = {};
      return;
    }
    out.status = unchangedSince(fd, out.identity) ? ReadStatus::kOk : ReadStatus::kChanged;
    out.stats = std::move(stats).finish();
  }
}

}  // namespace

ReadOutcome readWhole(const ReadRequest& request) {
  ReadOutcome out;
  // O_NOFOLLOW: a symlink dropped into an inbox must not make dropd send a
  // file it points at (say /etc/shadow) to the LLM. O_NONBLOCK: a fifo must
  // not hang the threadpool; it is refused as not regular right after.
  const int fd = ::open(request.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    out.status = statusOfOpenError(err);
    if (out.status == ReadStatus::kError) {
      out.error = errnoText("open", request.path, err);
    }
    return out;
  }
  readOpen(fd, request, out);
  ::close(fd);
  if (out.status != ReadStatus::kOk) {
    out.content = {};
  }
  return out;
}

ReadStatus statFile(const std::filesystem::path& path, FileIdentity& identity, std::string& error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    const ReadStatus status = statusOfOpenError(err);
    if (status == ReadStatus::kError) {
      error = errnoText("lstat", path, err);
    }
    return status;
  }
  identity = identityOf(st);
  return S_ISREG(st.st_mode) ? ReadStatus::kOk : ReadStatus::kNotRegular;
}

std::string_view toString(ReadStatus status) {
  switch (status) {
    case ReadStatus::kOk:
      return "ok";
    case ReadStatus::kVanished:
      return "vanished";
    case ReadStatus::kNotRegular:
      return "not a regular file";
    case ReadStatus::kTooLarge:
      return "too large";
    case ReadStatus::kUnsettled:
      return "still being written";
    case ReadStatus::kChanged:
      return "changed while being read";
    case ReadStatus::kError:
      return "read error";
  }
  return "unknown";
}

}  // namespace dropd::file
