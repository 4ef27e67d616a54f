#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "dropd/config/json_scalar.hpp"

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array kEndpointKeys{"url"sv,
                                   "model"sv,
                                   "api_key"sv,
                                   "auth"sv,
                                   "headers"sv,
                                   "tls"sv,
                                   "timeouts"sv,
                                   "limits"sv,
                                   "retry"sv,
                                   "params"sv,
                                   "stream"sv,
                                   "proxy"sv,
                                   "structured_output"sv,
                                   "budget"sv};
constexpr std::array<std::pair<std::string_view, Auth>, 3> kAuthModes{
    {{"bearer", Auth::kBearer}, {"api-key", Auth::kApiKey}, {"none", Auth::kNone}}};
constexpr std::array<std::pair<std::string_view, StructuredOutput>, 3> kStructuredModes{
    {{"json_schema", StructuredOutput::kJsonSchema},
     {"json_object", StructuredOutput::kJsonObject},
     {"prompt", StructuredOutput::kPrompt}}};
constexpr std::array kTlsKeys{"ca_file"sv, "verify"sv};
constexpr std::array kTimeoutKeys{"connect"sv, "request"sv, "idle"sv};
constexpr std::array kLimitKeys{"max_in_flight"sv, "requests_per_minute"sv, "tokens_per_minute"sv,
                                "adaptive"sv};
constexpr std::array kRetryKeys{"max_attempts"sv, "initial_backoff"sv, "max_backoff"sv};
// Headers dropd writes itself; a second copy would make a broken request.
constexpr std::array kReservedHeaders{"host"sv, "content-length"sv, "content-type"sv,
                                      "transfer-encoding"sv, "connection"sv};
// Request body fields dropd fills; params must not fight over them.
constexpr std::array kReservedParams{"model"sv, "messages"sv, "stream"sv};

std::optional<std::chrono::milliseconds> readPositiveDuration(Context& ctx, const YAML::Node& node,
                                                              Path path) {
  auto duration = readDuration(ctx, node, path);
  if (duration && duration->count() == 0) {
    ctx.error(node, path, "must be longer than 0");
    return std::nullopt;
  }
  return duration;
}

// Empty means "the system's trust store", so "" is allowed here.
std::optional<std::filesystem::path> readCaFile(Context& ctx, const YAML::Node& node, Path path) {
  if (node.IsScalar() && node.Scalar().empty()) {
    return std::filesystem::path{};
  }
  return readPath(ctx, node, path);
}

std::optional<HttpUrl> readUrl(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = readNonEmptyString(ctx, node, path);
  if (!text) {
    return std::nullopt;
  }
  auto url = parseHttpUrl(*text);
  if (!url) {
    ctx.error(node, path, url.error().context);
    return std::nullopt;
  }
  return *url;
}

bool isHeaderName(std::string_view name) {
  constexpr std::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           kTokenPunct.find(c) != std::string_view::npos;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

bool isOneLine(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// One header's value: inline text, or {env:}/{file:} (readSecret).
std::optional<Header> readHeader(Context& ctx, const std::string& name, const YAML::Node& value,
                                 Path path) {
  if (value.IsMap()) {
    auto secret = readSecret(ctx, value, path);
    return secret ? std::optional(Header{name, {}, std::move(*secret)}) : std::nullopt;
  }
  if (!value.IsScalar() || !isOneLine(value.Scalar())) {
    ctx.error(value, path, "a header value must be one line of text, {env: NAME} or {file: PATH}");
    return std::nullopt;
  }
  return Header{name, value.Scalar(), std::nullopt};
}

// Header values may be credentials, so no message here echoes a value.
std::optional<std::vector<Header>> readHeaders(Context& ctx, const YAML::Node& node, Path path) {
  const MapReader map(ctx, node, path, {});
  std::vector<Header> headers;
  for (const auto& [name, value] : map.entries()) {
    const std::string key_path = map.pathOf(name);
    if (!isHeaderName(name)) {
      ctx.error(value, key_path, "not a valid HTTP header name");
    } else if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower(name)) !=
               kReservedHeaders.end()) {
      ctx.error(value, key_path, "dropd sets this header itself");
    } else if (auto header = readHeader(ctx, name, value, key_path)) {
      headers.push_back(std::move(*header));
    }
  }
  return map.isMapping() ? std::optional(std::move(headers)) : std::nullopt;
}

// api_key and auth agree, and no header carries a second credential next
// to the key: the server would pick one of the two, and which is its own
// business.
void checkAuth(Context& ctx, const MapReader& map, const Endpoint& out) {
  if (out.auth == Auth::kNone && out.api_key) {
    ctx.error(map.find("api_key"), map.pathOf("api_key"),
              "auth none sends no key: remove api_key, or set auth to bearer or api-key");
  }
  // An api_key that was written but did not resolve is reported already.
  if (out.auth == Auth::kApiKey && !map.find("api_key").IsDefined()) {
    ctx.error(map.find("auth"), map.pathOf("auth"), "auth api-key sends api_key, which is not set");
  }
  if (!out.api_key || out.auth == Auth::kNone) {
    return;
  }
  const std::string_view sent_as = out.auth == Auth::kApiKey ? "api-key" : "Authorization";
  for (const Header& header : out.headers) {
    if (lower(header.name) == lower(sent_as)) {
      ctx.error(map.find("headers"), map.pathOf("headers") + "." + header.name,
                fmt::format("api_key already sets {}", sent_as));
    }
  }
}

// A scalar by the YAML 1.2 core schema (json_scalar.hpp). Quoted or tagged
// !!str, it is a string; other explicit tags are refused rather than guessed.
std::optional<nlohmann::json> scalarToJson(Context& ctx, const YAML::Node& node, Path path) {
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") {
    return nlohmann::json(node.Scalar());
  }
  if (tag != "?" && !tag.empty()) {
    ctx.error(node, path, fmt::format("the tag {} is not supported in params", tag));
    return std::nullopt;
  }
  auto value = plainScalarToJson(node.Scalar());
  if (!value) {
    ctx.error(node, path, value.error().context);
    return std::nullopt;
  }
  return std::move(*value);
}

// Every problem is reported; the result is nullopt if there was any.
std::optional<nlohmann::json> yamlToJson(Context& ctx, const YAML::Node& node, Path path) {
  if (node.IsScalar()) {
    return scalarToJson(ctx, node, path);
  }
  bool ok = true;
  nlohmann::json out = node.IsSequence() ? nlohmann::json::array() : nlohmann::json::object();
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      auto item = yamlToJson(ctx, node[i], fmt::format("{}[{}]", path, i));
      ok = ok && item.has_value();
      out.push_back(item ? std::move(*item) : nullptr);
    }
  } else if (node.IsMap()) {
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>("");
      auto value = yamlToJson(ctx, item.second, path + "." + key);
      ok = ok && value.has_value();
      out[key] = value ? std::move(*value) : nullptr;
    }
  } else {
    out = nullptr;  // `key:` with no value
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

std::optional<nlohmann::json> readParams(Context& ctx, const YAML::Node& node, Path path) {
  KeySet any_key;
  any_key.null_values = true;  // JSON null is a fine parameter value
  const MapReader map(ctx, node, path, any_key);
  for (const auto& [name, value] : map.entries()) {
    if (std::find(kReservedParams.begin(), kReservedParams.end(), name) != kReservedParams.end()) {
      ctx.error(value, map.pathOf(name), "dropd sets this field itself (see model and stream)");
    }
  }
  return map.isMapping() ? yamlToJson(ctx, node, path) : std::nullopt;
}

void readLimitsAndRetry(Context& ctx, const MapReader& endpoint, Endpoint& out) {
  if (const YAML::Node node = endpoint.find("limits"); node.IsDefined()) {
    const MapReader map(ctx, node, endpoint.pathOf("limits"), kLimitKeys);
    const auto count = [](std::uint64_t min, std::uint64_t max) {
      return [=](Context& c, const YAML::Node& n, Path p) { return readUInt(c, n, p, {min, max}); };
    };
    readField(map, "max_in_flight", out.limits.max_in_flight, count(1, 4096));
    readField(map, "requests_per_minute", out.limits.requests_per_minute, count(0, 1'000'000));
    readField(map, "tokens_per_minute", out.limits.tokens_per_minute, count(0, UINT32_MAX));
    readField(map, "adaptive", out.limits.adaptive, readBool);
  }
  if (const YAML::Node node = endpoint.find("retry"); node.IsDefined()) {
    const MapReader map(ctx, node, endpoint.pathOf("retry"), kRetryKeys);
    readField(map, "max_attempts", out.retry.max_attempts,
              [](Context& c, const YAML::Node& n, Path p) {
                return readUInt(c, n, p, {1, 100});
              });
    readField(map, "initial_backoff", out.retry.initial_backoff, readPositiveDuration);
    readField(map, "max_backoff", out.retry.max_backoff, readPositiveDuration);
    if (out.retry.initial_backoff > out.retry.max_backoff) {
      const bool has_max = map.find("max_backoff").IsDefined();
      const std::string key = has_max ? "max_backoff" : "initial_backoff";
      ctx.error(map.find(key), map.pathOf(key),
                "initial_backoff must not be longer than max_backoff");
    }
  }
}

void readTransport(Context& ctx, const MapReader& endpoint, Endpoint& out) {
  if (const YAML::Node node = endpoint.find("tls"); node.IsDefined()) {
    const MapReader map(ctx, node, endpoint.pathOf("tls"), kTlsKeys);
    readField(map, "ca_file", out.tls.ca_file, readCaFile);
    readField(map, "verify", out.tls.verify, readBool);
  }
  if (const YAML::Node node = endpoint.find("timeouts"); node.IsDefined()) {
    const MapReader map(ctx, node, endpoint.pathOf("timeouts"), kTimeoutKeys);
    readField(map, "connect", out.timeouts.connect, readPositiveDuration);
    readField(map, "request", out.timeouts.request, readPositiveDuration);
    readField(map, "idle", out.timeouts.idle, readPositiveDuration);
  }
}

}  // namespace

Endpoint readEndpoint(Context& ctx, const std::string& name, const YAML::Node& node) {
  Endpoint out;
  out.name = name;
  const MapReader map(ctx, node, "endpoints." + name, kEndpointKeys);
  if (!map.isMapping()) {
    return out;
  }
  if (const YAML::Node url = map.require("url"); url.IsDefined()) {
    readField(map, "url", out.url, readUrl);
  }
  readField(map, "model", out.model, readString);
  readField(map, "api_key", out.api_key, readSecret);
  readField(map, "auth", out.auth, [](Context& c, const YAML::Node& n, Path p) {
    return readEnum<Auth>(c, n, p, kAuthModes);
  });
  readField(map, "headers", out.headers, readHeaders);
  readTransport(ctx, map, out);
  readEndpointProxy(ctx, map, out);
  readLimitsAndRetry(ctx, map, out);
  readField(map, "params", out.params, readParams);
  readField(map, "stream", out.stream, readBool);
  readField(map, "structured_output", out.structured_output,
            [](Context& c, const YAML::Node& n, Path p) {
              return readEnum<StructuredOutput>(c, n, p, kStructuredModes);
            });
  readBudget(map, out.budget);
  checkAuth(ctx, map, out);
  return out;
}

}  // namespace dropd::config::detail
