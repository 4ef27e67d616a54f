// `ledger: { backend: sqlite | postgres, url: ..., password: {env:} | {file:},
// lease: 30s }`
// (docs/config.md, docs/ledger.md).
#include <array>
#include <utility>

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array kLedgerKeys{"backend"sv, "url"sv, "password"sv, "lease"sv};
constexpr std::array<std::pair<std::string_view, LedgerConfig::Backend>, 2> kBackends{
    {{"sqlite", LedgerConfig::Backend::kSqlite}, {"postgres", LedgerConfig::Backend::kPostgres}}};

}  // namespace

void readLedger(const MapReader& top, LedgerConfig& out) {
  const YAML::Node node = top.find("ledger");
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(top.ctx(), node, "ledger", kLedgerKeys);
  readField(map, "backend", out.backend, [](Context& c, const YAML::Node& n, Path p) {
    return readEnum<LedgerConfig::Backend>(c, n, p, kBackends);
  });
  readField(map, "url", out.url, readNonEmptyString);
  readField(map, "password", out.password, readSecret);
  readField(map, "lease", out.lease, [](Context& c, const YAML::Node& n, Path p) {
    const auto d = readDuration(c, n, p);
    if (d &&
        (*d < std::chrono::seconds(2) || *d > std::chrono::hours(1) || d->count() % 1000 != 0)) {
      c.error(n, p, "must be whole seconds, between 2s and 1h");
      return std::optional<std::chrono::seconds>{};
    }
    return d ? std::optional(std::chrono::duration_cast<std::chrono::seconds>(*d))
             : std::optional<std::chrono::seconds>{};
  });
  if (out.backend == LedgerConfig::Backend::kSqlite) {
    for (const auto key : {"url"sv, "password"sv, "lease"sv}) {
      if (const YAML::Node n = map.find(key); n.IsDefined()) {
        map.ctx().error(n, map.pathOf(key),
                        "only for backend: postgres (the sqlite ledger is state_dir/ledger.db)");
      }
    }
    return;
  }
  if (out.url.empty() && !map.find("url").IsDefined()) {
    map.ctx().error(node, "ledger", "backend: postgres needs url: a libpq connection string");
  }
}

}  // namespace dropd::config::detail
