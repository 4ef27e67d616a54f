#include "dropd/ops/stats_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "dropd/file/stats.hpp"
#include "dropd/ops/cli.hpp"

namespace dropd::ops {
namespace {

constexpr size_t kChunkBytes = 256 * 1024;

// Reads `path` through the accumulator; on failure returns the errno text.
bool measure(const std::string& path, file::Stats& stats, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  file::StatsAccumulator acc;
  std::vector<std::byte> buf(kChunkBytes);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) {
      break;
    }
    acc.feed(std::span<const std::byte>(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  stats = std::move(acc).finish();
  return true;
}

}  // namespace

int runStatsCommand(std::span<const std::string> paths, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  for (const std::string& path : paths) {
    file::Stats s;
    std::string error;
    if (!measure(path, s, error)) {
      err << "dropd stats: " << path << ": " << error << '\n';
      code = kExitRuntime;
      continue;
    }
    const nlohmann::ordered_json line = {
        {"path", path},       {"bytes", s.bytes},
        {"lines", s.lines},   {"words", s.words},
        {"chars", s.chars},   {"utf8_valid", s.utf8_valid},
        {"sha256", s.sha256}, {"estimated_tokens", s.estimated_tokens},
    };
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  return code;
}

}  // namespace dropd::ops
