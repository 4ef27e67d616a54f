#include "summary.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "dropd/ops/cli.hpp"

#include "daemon_parts.hpp"

namespace dropd::ops {
namespace {

struct Totals {
  std::uint64_t discovered = 0;
  std::uint64_t done = 0;
  std::uint64_t failed = 0;
  std::uint64_t bytes = 0;
  std::size_t backlog = 0;
  std::map<std::string, std::uint64_t> by_kind;
};

Totals totals(const Daemon::State& s) {
  Totals t;
  for (const auto& p : s.pipelines) {
    const auto& c = p->counters();
    t.discovered += c.discovered;
    t.done += c.done;
    t.failed += c.failed;
    t.bytes += c.bytes_read;
    t.backlog += p->backlog();
    for (const auto& [kind, n] : c.failed_by_kind) {
      t.by_kind[kind] += n;
    }
  }
  return t;
}

double secondsSince(const Daemon::State& s) {
  return std::chrono::duration<double>(s.clock.now() - s.started).count();
}

}  // namespace

void printProgress(const Daemon::State& s) {
  const Totals t = totals(s);
  const double secs = secondsSince(s);
  const std::uint64_t finished = t.done + t.failed;
  const double rate = secs > 0 ? static_cast<double>(finished) / secs : 0.0;
  constexpr int kWidth = 30;
  const int filled = t.discovered == 0 ? 0 : static_cast<int>(kWidth * finished / t.discovered);
  fmt::print(stderr, "\r\033[K[{:=<{}}{: <{}}] {}/{} files  {} failed  {:.0f} files/s", "", filled,
             "", kWidth - filled, finished, t.discovered, t.failed, rate);
  std::fflush(stderr);
}

std::string statusLine(const Daemon::State& s) {
  const Totals t = totals(s);
  std::size_t waiting = t.backlog;
  std::size_t in_flight = 0;
  for (const auto& d : s.dispatchers) {
    waiting += d->held() - d->inFlight();
    in_flight += d->inFlight();
  }
  std::string line = fmt::format("{} queued, {} in flight, {} done, {} failed", waiting, in_flight,
                                 t.done, t.failed);
  // A spent budget holds files until 00:00 UTC: `systemctl status` says so.
  std::string spent;
  for (const auto& d : s.dispatchers) {
    for (const auto& b : d->budgets()) {
      if (b.spent) {
        spent += fmt::format("{}{} {}", spent.empty() ? "" : ", ", b.scope, b.name);
      }
    }
  }
  if (!spent.empty()) {
    line += "; budget spent: " + spent;
  }
  return line;
}

int printSummary(const Daemon::State& s) {
  if (s.progress_bar) {
    fmt::print(stderr, "\r\033[K");
  }
  const Totals t = totals(s);
  const double secs = secondsSince(s);
  const std::uint64_t files = t.done + t.failed;
  fmt::print("dropd --once: {} files in {:.2f} s ({:.1f} files/s), {} bytes read\n", files, secs,
             secs > 0 ? static_cast<double>(files) / secs : 0.0, t.bytes);
  std::string kinds;
  for (const auto& [kind, n] : t.by_kind) {
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", kind, n);
  }
  fmt::print("  done {}, failed {}{}\n", t.done, t.failed, kinds.empty() ? "" : " (" + kinds + ")");
  std::fflush(stdout);
  return t.failed == 0 ? kExitOk : kExitFailures;
}

}  // namespace dropd::ops
