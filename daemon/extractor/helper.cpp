// dropd-extract's serve and command modes (helper.hpp).
#include "dropd/extractor/helper.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <new>

#include "dropd/extractor/extractor.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;

// gcc defines __SANITIZE_ADDRESS__; clang answers __has_feature only.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DROPD_ADDRESS_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(DROPD_ADDRESS_SANITIZER)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// Out of memory under RLIMIT_AS is the file's fault, not the helper's.
Outcome extractGuarded(const std::string& path, const extract::Options& options) {
  try {
    return extractFile(path, options);
  } catch (const std::bad_alloc&) {
    return Failure{FailureKind::kExtract, "", "out of memory: the file needs more than the limit"};
  } catch (const std::exception& e) {
    return Failure{FailureKind::kExtract, "", std::string("extractor error: ") + e.what()};
  }
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::uint64_t cpuSecondsUsed() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + 1;
}

}  // namespace

std::string limitProcess(const HelperLimits& limits) {
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  if (limits.memory_bytes == 0 || kAddressSanitizer) {
    return {};
  }
  rlimit memory{};
  ::getrlimit(RLIMIT_AS, &memory);
  memory.rlim_cur = std::min<rlim_t>(limits.memory_bytes, memory.rlim_max);
  if (::setrlimit(RLIMIT_AS, &memory) != 0) {
    return std::string("setrlimit(RLIMIT_AS): ") + std::strerror(errno);
  }
  return {};
}

void limitNextFile(std::uint64_t cpu_seconds) {
  if (cpu_seconds == 0) {
    return;
  }
  rlimit cpu{};
  ::getrlimit(RLIMIT_CPU, &cpu);
  const rlim_t wanted = cpuSecondsUsed() + cpu_seconds;
  // The hard limit stays: lowering it could never be undone for the next file.
  cpu.rlim_cur = cpu.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, cpu.rlim_max);
  ::setrlimit(RLIMIT_CPU, &cpu);
}

int serve(int in_fd, int out_fd, const HelperLimits& limits) {
  extract::FrameReader reader;
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    while (auto payload = reader.next()) {
      const auto request = extract::decodeRequest(*payload);
      if (!request) {
        return 2;
      }
      limitNextFile(limits.cpu_seconds);
      const extract::Reply reply{request->id, extractGuarded(request->path, request->options)};
      if (!writeAll(out_fd, extract::encodeReply(reply))) {
        return 1;
      }
    }
    if (reader.broken()) {
      return 2;
    }
    const ssize_t n = ::read(in_fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n == 0 && reader.pendingBytes() == 0 ? 0 : 2;
    }
    reader.feed({buffer.data(), static_cast<std::size_t>(n)});
  }
}

int runCommand(const CommandOptions& options, const HelperLimits& limits, std::ostream& out,
               std::ostream& err) {
  int rc = 0;
  for (const std::string& path : options.files) {
    limitNextFile(limits.cpu_seconds);
    const Outcome outcome = extractGuarded(path, options.extract);
    const auto* doc = std::get_if<Document>(&outcome);
    rc = doc == nullptr ? 1 : rc;
    if (options.json) {
      out << extract::answerLine(path, outcome) << '\n';
    } else if (doc != nullptr) {
      if (options.files.size() > 1) {
        out << "==> " << path << " <==\n";
      }
      out << doc->text;
    } else {
      const auto& failure = std::get<Failure>(outcome);
      err << "dropd-extract: " << path << ": " << extract::toString(failure.kind) << ": "
          << failure.reason << '\n';
    }
    out.flush();
  }
  return rc;
}

}  // namespace dropd::extractor
