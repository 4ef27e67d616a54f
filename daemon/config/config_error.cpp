#include "dropd/config/config_error.hpp"

#include <fmt/format.h>

namespace dropd::config {
namespace {

std::string joinAll(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    if (!out.empty()) {
      out += '\n';
    }
    out += d.str();
  }
  return out;
}

}  // namespace

std::string Diagnostic::str() const {
  std::string out = file;
  if (line > 0) {
    out += fmt::format(":{}:{}", line, col);
  }
  out += ": ";
  if (!key_path.empty()) {
    out += key_path + ": ";
  }
  return out + message;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(joinAll(diagnostics)), diagnostics_(std::move(diagnostics)) {}

}  // namespace dropd::config
