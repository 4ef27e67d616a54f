#include <catch2/catch.hpp>

#include "dropd/config/config_error.hpp"
#include "dropd/config/load.hpp"

TEST_CASE("budget.tokens_per_day is read for endpoints and pipelines", "[config]") {
  const auto config = dropd::config::loadConfigString(
      "endpoints:\n  l:\n    url: http://127.0.0.1:8089/v1\n    budget: { tokens_per_day: 5000 }\n"
      "pipelines:\n  - watch: [/srv/in]\n    endpoint: l\n    output: { dir: /srv/out }\n"
      "    budget: { tokens_per_day: 700 }\n",
      "b.yaml");
  CHECK(config.endpoints.at(0).budget.tokens_per_day == 5000);
  CHECK(config.pipelines.at(0).budget.tokens_per_day == 700);
  CHECK_FALSE(config.pipelines.at(0).budget.cost_per_1k_tokens.has_value());

  const auto priced = dropd::config::loadConfigString(
      "endpoints:\n  l:\n    url: http://127.0.0.1:8089/v1\n"
      "    budget: { cost_per_1k_tokens: 0.15 }\n"
      "pipelines:\n  - watch: [/srv/in]\n    endpoint: l\n    output: { dir: /srv/out }\n"
      "    budget: { tokens_per_day: 700, cost_per_1k_tokens: 2 }\n",
      "b.yaml");
  CHECK(priced.endpoints.at(0).budget.tokens_per_day == 0);  // a price alone: no limit
  CHECK(priced.endpoints.at(0).budget.cost_per_1k_tokens == 0.15);
  CHECK(priced.pipelines.at(0).budget.cost_per_1k_tokens == 2.0);

  for (const char* bad :
       {"budget: { tokens_per_day: 0 }", "budget: {}", "budget: { cost: 1 }",
        "budget: { cost_per_1k_tokens: -1 }", "budget: { cost_per_1k_tokens: 1e3 }",
        "budget: { cost_per_1k_tokens: abc }", "budget: { cost_per_1k_tokens: 2000000 }"}) {
    INFO(bad);
    CHECK_THROWS_AS(
        dropd::config::loadConfigString(
            std::string("endpoints:\n  l:\n    url: http://127.0.0.1:8089/v1\n    ") + bad +
                "\npipelines:\n  - watch: [/srv/in]\n    endpoint: l\n"
                "    output: { dir: /srv/out }\n",
            "b.yaml"),
        dropd::config::ConfigError);
  }
}
