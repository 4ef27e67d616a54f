#include "dropd/ops/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dropd::ops::LogFormat;
using dropd::ops::LogOptions;

namespace {

// Everything written to `out` (a tmpfile()), which it closes.
std::string readAndClose(FILE* out) {
  std::rewind(out);
  std::string text;
  char buf[512];
  while (const size_t n = std::fread(buf, 1, sizeof buf, out)) {
    text.append(buf, n);
  }
  std::fclose(out);
  return text;
}

// Logs two lines through a logger built with `options` and returns the output.
std::string logged(const LogOptions& options) {
  FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  {
    auto log = dropd::ops::makeLoggerTo(options, out);
    log->info("job.done file={:?} ms={}", "a b.txt", 12);
    log->warn("endpoint.paused endpoint={}", "local");
    log->debug("hidden.at_info");
  }
  return readAndClose(out);
}

}  // namespace

TEST_CASE("Logger writes the event lines in the chosen shape", "[ops]") {
  LogOptions options;
  SECTION("text: UTC timestamp, level, message") {
    const std::string text = logged(options);
    CHECK(text.find("info  job.done file=\"a b.txt\" ms=12\n") != std::string::npos);
    CHECK(text.find("warning endpoint.paused endpoint=local\n") != std::string::npos);
    CHECK(text.find("hidden.at_info") == std::string::npos);
    CHECK(text.substr(0, 2) == "20");  // ISO date first
    CHECK(text.find("Z ") != std::string::npos);
  }
  SECTION("journal: syslog priority prefix and no timestamp") {
    options.journal = true;
    CHECK(logged(options) ==
          "<6>job.done file=\"a b.txt\" ms=12\n<4>endpoint.paused endpoint=local\n");
  }
  SECTION("json: one object per line with the event name") {
    options.format = LogFormat::kJson;
    const std::string text = logged(options);
    const auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
    CHECK(first["level"] == "info");
    CHECK(first["event"] == "job.done");
    CHECK(first["msg"] == "job.done file=\"a b.txt\" ms=12");
    CHECK(first["ts"].get<std::string>().back() == 'Z');
  }
}

TEST_CASE("parseLogLevel knows the config's level names", "[ops]") {
  spdlog::level::level_enum level = spdlog::level::off;
  CHECK(dropd::ops::parseLogLevel("error", level));
  CHECK(level == spdlog::level::err);
  CHECK(dropd::ops::parseLogLevel("trace", level));
  CHECK(level == spdlog::level::trace);
  CHECK_FALSE(dropd::ops::parseLogLevel("verbose", level));
}

TEST_CASE("stderrIsJournal compares JOURNAL_STREAM with stderr's device and inode", "[ops]") {
  ::unsetenv("JOURNAL_STREAM");
  CHECK_FALSE(dropd::ops::stderrIsJournal());
  ::setenv("JOURNAL_STREAM", "1:1", 1);
  CHECK_FALSE(dropd::ops::stderrIsJournal());
  struct stat st {};
  REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  CHECK(dropd::ops::stderrIsJournal());
  ::unsetenv("JOURNAL_STREAM");
}

TEST_CASE("Logger masks every configured secret, at every level and shape", "[ops]") {
  auto mask = std::make_shared<dropd::config::SecretMask>();
  mask->add("sk-echoed-by-the-server", "endpoints.local.api_key");
  for (const LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    LogOptions options;
    options.format = format;
    options.level = spdlog::level::trace;
    options.mask = mask;
    FILE* out = std::tmpfile();
    REQUIRE(out != nullptr);
    {
      auto log = dropd::ops::makeLoggerTo(options, out);
      log->trace("llm.body body={:?}", "{\"error\":\"bad key sk-echoed-by-the-server\"}");
      log->error("job.failed error={:?}", "HTTP 401: sk-echoed-by-the-server");
    }
    const std::string text = readAndClose(out);
    INFO(text);
    CHECK(text.find("sk-echoed") == std::string::npos);
    CHECK(text.find("HTTP 401: [redacted endpoints.local.api_key]") != std::string::npos);
    CHECK(text.find("llm.body") != std::string::npos);
  }
}
