// budget: { tokens_per_day: N }, the same for endpoints and pipelines.
#include <array>

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array kBudgetKeys{"tokens_per_day"sv};

}  // namespace

void readBudget(const MapReader& parent, Budget& out) {
  const YAML::Node node = parent.find("budget");
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(parent.ctx(), node, parent.pathOf("budget"), kBudgetKeys);
  if (map.isMapping() && map.require("tokens_per_day").IsDefined()) {
    readField(map, "tokens_per_day", out.tokens_per_day,
              [](Context& c, const YAML::Node& n, Path p) {
                return readUInt(c, n, p, {1, UINT64_MAX});
              });
  }
}

}  // namespace dropd::config::detail
