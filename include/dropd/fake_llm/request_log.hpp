#pragma once

// --request-log FILE: one JSON line per answered request, flushed at once so
// that a test can read the file while the fake runs. Loop thread only. The
// write is a small blocking append; it only happens when the log is asked
// for, which tests do and benchmarks do not.

#include <cstdio>
#include <memory>
#include <string>

#include "dropd/base/clock.hpp"
#include "dropd/base/error.hpp"

namespace dropd::fake_llm {

struct LogEntry {
  WallTime time;
  int status = 0;           // 0: no answer (hang)
  std::string fault;        // the faults that fired, "" if none
  std::size_t bytes = 0;    // of the last user message's content
  std::string sha256;       // of that content, hex
  std::string first_words;  // its first 8 words
  // A corrective follow-up (the request has an assistant message), and the
  // first 8 words of its first user message (the document's).
  bool repair = false;
  std::string document_words;
  std::string answer;        // the JSON answer's kind ("json", "json-invalid", ...), "" for text
  std::uint64_t tokens = 0;  // the request's contextTokens() (completion.hpp)
};

class RequestLog {
 public:
  [[nodiscard]] static Result<RequestLog> open(const std::string& path);
  void write(const LogEntry& entry);

 private:
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  explicit RequestLog(std::unique_ptr<std::FILE, Closer> file) : file_(std::move(file)) {}
  std::unique_ptr<std::FILE, Closer> file_;
};

// Lower-case hex SHA-256 of `data`.
[[nodiscard]] std::string sha256Hex(std::string_view data);

}  // namespace dropd::fake_llm
