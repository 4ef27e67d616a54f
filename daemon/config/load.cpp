#include "dropd/config/load.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "readers.hpp"

namespace dropd::config {
namespace {

using namespace std::string_view_literals;
using detail::Context;
using detail::MapReader;

constexpr std::array kTopKeys{"state_dir"sv, "ledger"sv,    "log"sv,
                              "status"sv,    "endpoints"sv, "pipelines"sv};
constexpr std::array kLogKeys{"level"sv, "format"sv};
constexpr std::array kStatusKeys{"listen"sv, "token"sv};
constexpr std::array<std::pair<std::string_view, LogLevel>, 5> kLevels{
    {{"trace", LogLevel::kTrace},
     {"debug", LogLevel::kDebug},
     {"info", LogLevel::kInfo},
     {"warn", LogLevel::kWarn},
     {"error", LogLevel::kError}}};
constexpr std::array<std::pair<std::string_view, LogFormat>, 2> kFormats{
    {{"text", LogFormat::kText}, {"json", LogFormat::kJson}}};

[[noreturn]] void throwFileError(const std::string& file, std::string message) {
  throw ConfigError({Diagnostic{file, 0, 0, "", std::move(message)}});
}

void readLog(const MapReader& top, LogConfig& out) {
  const YAML::Node node = top.find("log");
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(top.ctx(), node, "log", kLogKeys);
  readField(map, "level", out.level, [](Context& c, const YAML::Node& n, detail::Path p) {
    return detail::readEnum<LogLevel>(c, n, p, kLevels);
  });
  readField(map, "format", out.format, [](Context& c, const YAML::Node& n, detail::Path p) {
    return detail::readEnum<LogFormat>(c, n, p, kFormats);
  });
}

void readStatus(const MapReader& top, std::optional<StatusConfig>& out) {
  const YAML::Node node = top.find("status");
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(top.ctx(), node, "status", kStatusKeys);
  StatusConfig status;
  readField(map, "token", status.token, detail::readSecret);
  if (const YAML::Node listen = map.find("listen"); listen.IsDefined()) {
    if (const auto text = detail::readNonEmptyString(map.ctx(), listen, "status.listen")) {
      auto address = parseListenAddress(*text);
      if (!address) {
        map.ctx().error(listen, "status.listen", address.error().context);
      } else if (!address->loopback && !map.find("token").IsDefined()) {
        map.ctx().error(listen, "status.listen",
                        "a non-loopback address needs token: {env: NAME} or {file: PATH}");
      } else {
        status.listen = *text;
        status.address = *address;
      }
    }
  }
  out = std::move(status);
}

void readEndpoints(const MapReader& top, std::vector<Endpoint>& out) {
  const YAML::Node node = top.require("endpoints");
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(top.ctx(), node, "endpoints", {});
  if (map.isMapping() && map.entries().empty()) {
    map.ctx().error(node, "endpoints", "at least one endpoint is needed");
  }
  for (const auto& [name, value] : map.entries()) {
    if (!detail::isValidName(name)) {
      map.ctx().error(value, map.pathOf(name), "a name is 1 to 64 letters, digits, '_' or '-'");
    }
    out.push_back(detail::readEndpoint(map.ctx(), name, value));
  }
}

void readPipelines(const MapReader& top, std::vector<Pipeline>& out) {
  const YAML::Node node = top.require("pipelines");
  if (!node.IsDefined()) {
    return;
  }
  if (!node.IsSequence() || node.size() == 0) {
    top.ctx().error(node, "pipelines",
                    fmt::format("expected a list of at least one pipeline, got {}",
                                node.IsSequence() ? "an empty list" : detail::describeType(node)));
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    out.push_back(detail::readPipeline(top.ctx(), i, node[i]));
  }
}

// The one document of the file, or a thrown ConfigError.
YAML::Node parseDocument(std::string_view yaml, const std::string& file) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    const Diagnostic d{file, e.mark.line + 1, e.mark.column + 1, "", "not valid YAML: " + e.msg};
    throw ConfigError({d});
  }
  if (documents.empty() || documents[0].IsNull()) {
    throwFileError(file, "config is empty: it needs endpoints and pipelines");
  }
  if (documents.size() > 1) {
    const detail::Position at = detail::positionOf(documents[1]);
    throw ConfigError({Diagnostic{file, at.line, at.col, "", "only one YAML document is allowed"}});
  }
  if (!documents[0].IsMap()) {
    const detail::Position at = detail::positionOf(documents[0]);
    throw ConfigError({Diagnostic{file, at.line, at.col, "",
                                  fmt::format("the top level must be a mapping, got {}",
                                              detail::describeType(documents[0]))}});
  }
  return documents[0];
}

}  // namespace

Config loadConfigString(std::string_view yaml, std::string_view name_for_messages,
                        const std::filesystem::path& base_dir) {
  const std::string file(name_for_messages);
  const YAML::Node root = parseDocument(yaml, file);
  detail::Diagnostics diags(file);
  Context ctx{diags, base_dir.empty() ? std::filesystem::current_path() : base_dir};
  const MapReader top(ctx, root, "", kTopKeys);
  Config config;
  readField(top, "state_dir", config.state_dir, detail::readPath);
  detail::readLedger(top, config.ledger);
  readLog(top, config.log);
  readStatus(top, config.status);
  readEndpoints(top, config.endpoints);
  readPipelines(top, config.pipelines);
  detail::validateConfig(config, diags);
  if (!diags.empty()) {
    throw ConfigError(diags.take());
  }
  return config;
}

Config loadConfigFile(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throwFileError(file, "cannot read config file: it is a folder");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    throwFileError(file, fmt::format("cannot read config file: {}", std::strerror(errno)));
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    throwFileError(file, fmt::format("cannot read config file: {}", std::strerror(errno)));
  }
  Config config = loadConfigString(text, file);
  config.file = std::filesystem::absolute(path, ec).lexically_normal();
  return config;
}

std::string describeSummary(const Config& config) {
  return fmt::format("config OK: {} pipelines, {} endpoints", config.pipelines.size(),
                     config.endpoints.size());
}

}  // namespace dropd::config
