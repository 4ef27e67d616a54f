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

  for (const char* bad : {"budget: { tokens_per_day: 0 }", "budget: {}", "budget: { cost: 1 }"}) {
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
