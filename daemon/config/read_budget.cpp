// budget: { tokens_per_day: N, cost_per_1k_tokens: X }, the same for
// endpoints and pipelines. At least one of the two.
#include <array>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "readers.hpp"

namespace dropd::config::detail {
namespace {

using namespace std::string_view_literals;

constexpr std::array kBudgetKeys{"tokens_per_day"sv, "cost_per_1k_tokens"sv};

// A price: a plain decimal from 0 to 1,000,000 (no exponent, no sign).
std::optional<double> readPrice(Context& ctx, const YAML::Node& node, Path path) {
  const auto text = readNonEmptyString(ctx, node, path);
  if (!text) {
    return std::nullopt;
  }
  double value = 0;
  const char* const end = text->data() + text->size();
  const auto [stop, ec] = std::from_chars(text->data(), end, value, std::chars_format::fixed);
  if (ec != std::errc{} || stop != end || !std::isfinite(value) || value < 0 || value > 1e6 ||
      text->starts_with('-')) {
    ctx.error(node, path,
              fmt::format("expected a price from 0 to 1000000 (e.g. 0.15), got '{}'", *text));
    return std::nullopt;
  }
  return value;
}

}  // namespace

void readBudget(const MapReader& parent, Budget& out) {
  const YAML::Node node = parent.find("budget");
  if (!node.IsDefined()) {
    return;
  }
  const MapReader map(parent.ctx(), node, parent.pathOf("budget"), kBudgetKeys);
  if (!map.isMapping()) {
    return;
  }
  if (!map.find("cost_per_1k_tokens").IsDefined()) {
    (void)map.require("tokens_per_day");  // a budget of nothing is a mistake
  }
  readField(map, "tokens_per_day", out.tokens_per_day, [](Context& c, const YAML::Node& n, Path p) {
    return readUInt(c, n, p, {1, UINT64_MAX});
  });
  readField(map, "cost_per_1k_tokens", out.cost_per_1k_tokens,
            [](Context& c, const YAML::Node& n, Path p) { return readPrice(c, n, p); });
}

}  // namespace dropd::config::detail
