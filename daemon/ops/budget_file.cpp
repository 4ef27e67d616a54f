#include "dropd/ops/budget_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dropd/throttle/daily_budget.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::ops {
namespace {

namespace fs = std::filesystem;

constexpr int kVersion = 1;
constexpr std::size_t kMaxFileBytes = 1 << 20;

Status writeAll(int fd, std::string_view text, const fs::path& path) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return sysError(errno, "write(" + path.string() + ")");
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// A temp file beside it, written, fsynced and renamed over it: a reader
// sees the old counts or the new ones, never a torn file.
Status writeBudgetFile(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return sysError(errno, "open(" + temp.string() + ")");
  }
  Status st = writeAll(fd, text, temp);
  if (st && ::fsync(fd) != 0) {
    st = sysError(errno, "fsync(" + temp.string() + ")");
  }
  ::close(fd);
  if (st && ::rename(temp.c_str(), path.c_str()) != 0) {
    st = sysError(errno, "rename(" + path.string() + ")");
  }
  return st;
}

}  // namespace

BudgetCounts countsOf(const pipeline::BudgetBook& book, WallTime now) {
  BudgetCounts counts{throttle::utcDay(now), {}};
  for (const auto& [key, budget] : book.all()) {
    if (const std::uint64_t used = budget.usedToday(now); used != 0) {
      counts.used.emplace(key, used);
    }
  }
  return counts;
}

std::string formatBudgetFile(const BudgetCounts& counts) {
  nlohmann::ordered_json doc = {{"version", kVersion}, {"day", counts.day}, {"used", counts.used}};
  return doc.dump() + "\n";
}

Result<BudgetCounts> parseBudgetFile(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("version", 0) != kVersion || !doc.contains("day") ||
      !doc["day"].is_number_integer() || !doc.contains("used") || !doc["used"].is_object()) {
    return makeError(ErrorCode::kInvalid, "not a dropd budgets file (version 1)");
  }
  BudgetCounts counts{doc["day"].get<std::int64_t>(), {}};
  for (const auto& [key, used] : doc["used"].items()) {
    if (!used.is_number_unsigned()) {
      return makeError(ErrorCode::kInvalid, fmt::format("count of {} is not a whole number", key));
    }
    counts.used.emplace(key, used.get<std::uint64_t>());
  }
  return counts;
}

Result<BudgetCounts> readBudgetFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Result<BudgetCounts>(BudgetCounts{})
                           : sysError(errno, "open(" + path.string() + ")");
  }
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    text.append(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (text.size() > kMaxFileBytes) {
      ::close(fd);
      return makeError(ErrorCode::kInvalid, "over 1 MiB: not a dropd budgets file");
    }
  }
  const int err = errno;
  ::close(fd);
  if (n < 0) {
    return sysError(err, "read(" + path.string() + ")");
  }
  return parseBudgetFile(text);
}

void restoreBudgets(const fs::path& path, pipeline::BudgetBook& book, WallTime now,
                    spdlog::logger& log) {
  const Result<BudgetCounts> counts = readBudgetFile(path);
  if (!counts) {
    log.warn("budget.file_unreadable path={:?} error={:?} hint=\"the day's counts start at 0\"",
             path.string(), counts.error().message());
    return;
  }
  if (counts->day != throttle::utcDay(now)) {
    return;  // another day's (or no file): today starts at 0
  }
  std::uint64_t total = 0;
  for (const auto& [key, used] : counts->used) {
    book.restore(key, counts->day, used, now);
    total += used;
  }
  if (total != 0) {
    log.info("budget.restored path={:?} budgets={} tokens={}", path.string(), counts->used.size(),
             total);
  }
}

void BudgetSaver::maybeSave(const pipeline::BudgetBook& book, WallTime now, MonoTime mono) {
  if (saving_ || (last_ != MonoTime{} && mono - last_ < kSaveEvery)) {
    return;
  }
  BudgetCounts counts = countsOf(book, now);
  if (counts == saved_) {
    return;
  }
  std::string text = formatBudgetFile(counts);
  saved_ = std::move(counts);
  last_ = mono;
  saving_ = true;
  const Status queued = uv::queueWork<std::pair<fs::path, std::string>, bool>(
      loop_, {path_, std::move(text)},
      [](std::pair<fs::path, std::string> in) -> Result<bool> {
        if (Status st = writeBudgetFile(in.first, in.second); !st) {
          return tl::unexpected(std::move(st.error()));
        }
        return true;
      },
      [this](Result<bool> done) {
        saving_ = false;
        noteResult(done ? Status{} : Status{tl::unexpected(std::move(done.error()))});
      });
  if (!queued) {
    saving_ = false;
    noteResult(queued);
  }
}

void BudgetSaver::saveNow(const pipeline::BudgetBook& book, WallTime now) {
  BudgetCounts counts = countsOf(book, now);
  if (counts == saved_) {
    return;
  }
  noteResult(writeBudgetFile(path_, formatBudgetFile(counts)));
  saved_ = std::move(counts);
}

void BudgetSaver::noteResult(const Status& st) {
  if (!st && !failed_logged_) {
    failed_logged_ = true;  // once: the next good write says it healed
    log_.warn(
        "budget.save_failed path={:?} error={:?} hint=\"a restart would count the day "
        "from what was saved last\"",
        path_.string(), st.error().message());
  } else if (st && failed_logged_) {
    failed_logged_ = false;
    log_.info("budget.saved path={:?}", path_.string());
  }
}

}  // namespace dropd::ops
