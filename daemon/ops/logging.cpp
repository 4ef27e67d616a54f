#include "dropd/ops/logging.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace dropd::ops {
namespace {

// syslog(3) priorities, which journald reads from a "<N>" line prefix.
int syslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    default:
      return 2;
  }
}

class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    fmt::format_to(std::back_inserter(dest), "<{}>", syslogPriority(msg.level));
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

std::string isoTime(spdlog::log_clock::time_point tp) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(buf, n) + fmt::format(".{:03}Z", ms.count() % 1000);
}

// One JSON object per line. The event name is the message's first word,
// by the convention of STYLE.md ("event.name key=value ...").
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    nlohmann::json line = {
        {"ts", isoTime(msg.time)},
        {"level", spdlog::level::to_string_view(msg.level).data()},
        {"event", std::string(text.substr(0, text.find(' ')))},
        {"msg", std::string(text)},
    };
    const std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(out.data(), out.data() + out.size());
    dest.push_back('\n');
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// Masks every configured secret in the message, then formats it with
// `inner`: one place that every log line, at every level, goes through.
class MaskingFormatter final : public spdlog::formatter {
 public:
  MaskingFormatter(std::unique_ptr<spdlog::formatter> inner,
                   std::shared_ptr<const config::SecretMask> mask)
      : inner_(std::move(inner)), mask_(std::move(mask)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (!mask_->finds(text)) {
      inner_->format(msg, dest);
      return;
    }
    const std::string masked = mask_->apply(text);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(masked.data(), masked.size());
    inner_->format(copy, dest);
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<MaskingFormatter>(inner_->clone(), mask_);
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
  std::shared_ptr<const config::SecretMask> mask_;
};

std::unique_ptr<spdlog::formatter> makeLineFormatter(const LogOptions& options) {
  if (options.format == LogFormat::kJson) {
    return std::make_unique<JsonFormatter>();
  }
  if (options.journal) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%v");
    return formatter;
  }
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v",
                                                     spdlog::pattern_time_type::utc);
}

std::unique_ptr<spdlog::formatter> makeFormatter(const LogOptions& options) {
  auto line = makeLineFormatter(options);
  if (!options.mask) {
    return line;
  }
  return std::make_unique<MaskingFormatter>(std::move(line), options.mask);
}

}  // namespace

bool stderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) {
    return false;
  }
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) {
    return false;
  }
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) {
    return false;
  }
  return dev == st.st_dev && ino == st.st_ino;
}

bool parseLogLevel(std::string_view name, spdlog::level::level_enum& level) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},
  };
  for (const auto& [known, value] : kLevels) {
    if (known == name) {
      level = value;
      return true;
    }
  }
  return false;
}

std::shared_ptr<spdlog::logger> makeLogger(const LogOptions& options) {
  return makeLoggerTo(options, stderr);
}

std::shared_ptr<spdlog::logger> makeLoggerTo(const LogOptions& options, FILE* out) {
  using Sink = spdlog::sinks::stdout_sink_base<spdlog::details::console_nullmutex>;
  auto sink = std::make_shared<Sink>(out);
  sink->set_formatter(makeFormatter(options));
  auto logger = std::make_shared<spdlog::logger>("dropd", std::move(sink));
  logger->set_level(options.level);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace dropd::ops
