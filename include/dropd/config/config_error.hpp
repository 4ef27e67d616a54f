#pragma once

// What a broken config file produces: every problem found, each with its
// position and key path, thrown at once as one ConfigError (startup code,
// where exceptions are allowed; see STYLE.md).

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace dropd::config {

struct Diagnostic {
  std::string file;      // as given to the loader
  int line = 0;          // 1-based; 0 when the problem is the whole file
  int col = 0;           // 1-based; 0 when line is 0
  std::string key_path;  // "pipelines[0].settle"; empty for the file itself
  std::string message;   // never holds a secret value

  // "FILE:LINE:COL: KEY: message"; without ":LINE:COL" when line is 0 and
  // without "KEY: " when key_path is empty.
  [[nodiscard]] std::string str() const;
};

class ConfigError : public std::runtime_error {
 public:
  // `diagnostics` must not be empty. what() is every str() joined by '\n'.
  explicit ConfigError(std::vector<Diagnostic> diagnostics);

  [[nodiscard]] const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace dropd::config
