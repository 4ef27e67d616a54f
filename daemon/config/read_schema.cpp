// output.schema: a JSON Schema file, read, parsed and compiled at load, so
// a bad file stops the start (or the reload) with its own line and column.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "dropd/config/json_schema.hpp"

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

// A schema is a small document; anything bigger is a mistake (a data file).
constexpr std::size_t kMaxSchemaBytes = 1 << 20;

// 1-based line and column of byte `offset` (columns count bytes).
std::pair<std::size_t, std::size_t> lineAndColumn(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

// nlohmann's message without its "[json.exception...] parse error at
// line L, column C: " prefix, which the caller replaces with FILE:L:C.
std::string parseReason(const std::string& what) {
  const std::size_t at = what.find(": ");
  return at == std::string::npos ? what : what.substr(at + 2);
}

std::optional<std::string> readSmallFile(Context& ctx, const YAML::Node& node, Path path,
                                         const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    ctx.error(node, path, fmt::format("cannot read {}: {}", file.string(), std::strerror(errno)));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string out = std::move(text).str();
  if (out.size() > kMaxSchemaBytes) {
    ctx.error(node, path, fmt::format("{} is over 1 MiB: not a schema", file.string()));
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<OutputSchema> readSchemaFile(Context& ctx, const YAML::Node& node, Path path) {
  auto file = readPath(ctx, node, path);
  if (!file) {
    return std::nullopt;
  }
  const auto text = readSmallFile(ctx, node, path, *file);
  if (!text) {
    return std::nullopt;
  }
  OutputSchema out;
  out.file = *file;
  try {
    out.document = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the byte that failed.
    const auto [line, col] = lineAndColumn(*text, e.byte == 0 ? 0 : e.byte - 1);
    ctx.error(
        node, path,
        fmt::format("{}:{}:{}: not JSON: {}", file->string(), line, col, parseReason(e.what())));
    return std::nullopt;
  }
  auto compiled = JsonSchema::compile(out.document);
  if (!compiled) {
    ctx.error(node, path, fmt::format("{}: {}", file->string(), compiled.error().context));
    return std::nullopt;
  }
  out.compiled = std::move(*compiled);
  return out;
}

}  // namespace dropd::config::detail
