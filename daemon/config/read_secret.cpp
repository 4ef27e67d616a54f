#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

constexpr std::size_t kMaxSecretBytes = 64 * 1024;

bool isEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

// Secrets go into HTTP headers: a control character would split the header.
bool hasControlChar(std::string_view value) {
  return std::any_of(value.begin(), value.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

std::string leafName(const std::string& path) {
  const std::size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

std::optional<std::string> readEnvValue(Context& ctx, const YAML::Node& at, const std::string& path,
                                        const std::string& name) {
  if (!isEnvName(name)) {
    // Not echoed: what sits here may be the key itself, pasted by mistake.
    ctx.error(at, path, "env must name an environment variable (letters, digits, '_')");
    return std::nullopt;
  }
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    ctx.error(at, path, fmt::format("environment variable {} is not set or empty", name));
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<std::string> readFileValue(Context& ctx, const YAML::Node& at,
                                         const std::string& path, const std::string& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);  // also fails for a folder
  if (ec) {
    ctx.error(at, path, fmt::format("cannot read secret file {}: {}", file, ec.message()));
    return std::nullopt;
  }
  if (size > kMaxSecretBytes) {
    ctx.error(at, path, fmt::format("secret file {} is larger than 64 KiB", file));
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  std::string value{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.is_open() || in.bad()) {
    ctx.error(at, path, fmt::format("cannot read secret file {}: {}", file, std::strerror(errno)));
    return std::nullopt;
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  if (value.empty()) {
    ctx.error(at, path, fmt::format("secret file {} is empty", file));
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<Secret> readSecret(Context& ctx, const YAML::Node& node, const std::string& path) {
  const std::string form = leafName(path) + " must be {env: NAME} or {file: PATH}";
  if (!node.IsMap() || node.size() != 1) {
    ctx.error(node, path, form);  // never the node's text: it may be the key itself
    return std::nullopt;
  }
  const auto entry = *node.begin();  // a copy: the iterator hands out a temporary
  const YAML::Node key = entry.first;
  const YAML::Node value = entry.second;
  if (!key.IsScalar() || !value.IsScalar()) {
    ctx.error(node, path, form);
    return std::nullopt;
  }
  const std::string kind = key.Scalar();
  std::optional<std::string> secret;
  std::string origin;
  if (kind == "env") {
    secret = readEnvValue(ctx, value, path, value.Scalar());
    origin = "env " + value.Scalar();
  } else if (kind == "file") {
    const auto file = readPath(ctx, value, path);
    if (!file) {
      return std::nullopt;
    }
    secret = readFileValue(ctx, value, path, file->string());
    origin = "file " + file->string();
  } else {
    ctx.error(node, path, form);
    return std::nullopt;
  }
  if (secret && hasControlChar(*secret)) {
    ctx.error(value, path, fmt::format("the value from {} holds a control character", origin));
    return std::nullopt;
  }
  return secret ? std::optional<Secret>(Secret(std::move(*secret), origin)) : std::nullopt;
}

}  // namespace dropd::config::detail
