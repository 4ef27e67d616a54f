#include "dropd/fake_llm/request_log.hpp"

#include <time.h>

#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace dropd::fake_llm {

namespace {

std::string isoTime(WallTime time) {
  const auto since = time.time_since_epoch();
  const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
}

}  // namespace

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

Result<RequestLog> RequestLog::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return sysError(errno, "fopen(" + path + ")");
  }
  return RequestLog{std::unique_ptr<std::FILE, Closer>{file}};
}

void RequestLog::write(const LogEntry& entry) {
  nlohmann::json line = {{"time", isoTime(entry.time)}, {"status", entry.status},
                         {"fault", entry.fault},        {"bytes", entry.bytes},
                         {"sha256", entry.sha256},      {"first_words", entry.first_words},
                         {"tokens", entry.tokens}};
  if (!entry.answer.empty()) {
    line["answer"] = entry.answer;
    line["repair"] = entry.repair;
    line["document_words"] = entry.document_words;
  }
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), file_.get());
  std::fflush(file_.get());
}

}  // namespace dropd::fake_llm
