#pragma once

// A credential read at config load (API key, status token). The value is
// only reachable through reveal(); there is deliberately no operator<<, no
// fmt formatter and no conversion to string, so it cannot end up in a log
// line or an error message by accident. describe() names where it came from.

#include <string>

namespace dropd::config {

class Secret {
 public:
  // `origin` says where the value came from without giving it away, e.g.
  // "env OPENAI_API_KEY" or "file /run/credentials/dropd.service/api_key".
  Secret(std::string value, std::string origin);
  Secret(const Secret& other) = default;
  Secret(Secret&& other) noexcept = default;
  Secret& operator=(const Secret& other) = default;
  Secret& operator=(Secret&& other) noexcept = default;
  ~Secret();  // wipes the value's memory

  // The value itself: only for the one place that sends it (a request header).
  [[nodiscard]] const std::string& reveal() const { return value_; }
  [[nodiscard]] const std::string& origin() const { return origin_; }
  // "<redacted> (env OPENAI_API_KEY)": safe to log.
  [[nodiscard]] std::string describe() const;

 private:
  std::string value_;
  std::string origin_;
};

}  // namespace dropd::config
