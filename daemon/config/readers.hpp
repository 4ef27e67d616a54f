#pragma once

// The parts of loading one config file, shared between the .cpp files of
// this folder. Each reader records problems in ctx.diags and returns what it
// could read, so loading goes on and every problem of a file is reported.

#include <cstddef>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "dropd/config/config.hpp"

#include "yaml_reader.hpp"

namespace dropd::config::detail {

// `{env: NAME}` or `{file: PATH}`, resolved now. Never puts the value, or
// anything that could be the value, into a message.
[[nodiscard]] std::optional<Secret> readSecret(Context& ctx, const YAML::Node& node,
                                               const std::string& path);

// One entry of `endpoints:`; `name` is its key.
[[nodiscard]] Endpoint readEndpoint(Context& ctx, const std::string& name, const YAML::Node& node);

// endpoints.NAME.proxy, or the environment when it is unset (proxy.hpp),
// into out.proxy and out.direct_because. Needs out.url read already.
void readEndpointProxy(Context& ctx, const MapReader& endpoint, Endpoint& out);

// output.schema: the JSON Schema file at that path, parsed and compiled
// (read_schema.cpp). Errors name the schema file's line and column.
[[nodiscard]] std::optional<OutputSchema> readSchemaFile(Context& ctx, const YAML::Node& node,
                                                         const std::string& path);

// `budget: { tokens_per_day: N }` under `parent` (an endpoint or a
// pipeline), into out when present (read_budget.cpp).
void readBudget(const MapReader& parent, Budget& out);

// `ledger:` into out (read_ledger.cpp).
void readLedger(const MapReader& top, LedgerConfig& out);

// pipelines[index].
[[nodiscard]] Pipeline readPipeline(Context& ctx, std::size_t index, const YAML::Node& node);

// Checks across keys: endpoint names, duplicate names, overlapping folders.
void validateConfig(const Config& config, Diagnostics& diags);

// Pipelines that feed each other in a loop, through any number of them:
// each writes into a folder the next one watches (feed_loops.cpp). A
// pipeline that feeds itself is validateConfig's to report.
void checkFeedLoops(const Config& config, Diagnostics& diags);

}  // namespace dropd::config::detail
