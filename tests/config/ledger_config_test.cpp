// `ledger:` (docs/config.md, docs/ledger.md).
#include <cstdlib>

#include <catch2/catch.hpp>

#include "dropd/config/load.hpp"

namespace {

using namespace dropd::config;

// Lines 1-7: a valid config; `ledger` goes in from line 8.
std::string configWith(const std::string& ledger) {
  return "endpoints:\n"
         "  local:\n"
         "    url: http://127.0.0.1:8089/v1\n"
         "pipelines:\n"
         "  - watch: [/srv/in]\n"
         "    endpoint: local\n"
         "    output: { dir: /srv/out }\n" +
         ledger;
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  std::vector<std::string> out;
  try {
    (void)loadConfigString(yaml, "bad.yaml", "/base");
  } catch (const ConfigError& e) {
    for (const auto& d : e.diagnostics()) {
      out.push_back(d.str());
    }
    return out;
  }
  FAIL("the config loaded without error:\n" << yaml);
  return out;
}

TEST_CASE("ledger: is sqlite unless written, and sqlite takes no url", "[config]") {
  CHECK(loadConfigString(configWith(""), "a.yaml").ledger.backend ==
        LedgerConfig::Backend::kSqlite);
  CHECK(loadConfigString(configWith("ledger: { backend: sqlite }\n"), "a.yaml").ledger.backend ==
        LedgerConfig::Backend::kSqlite);
  const auto errors = errorsOf(configWith("ledger:\n  url: host=10.0.0.5\n"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "bad.yaml:9:8: ledger.url: only for backend: postgres (the sqlite ledger is "
        "state_dir/ledger.db)");
}

TEST_CASE("ledger: backend postgres reads its url and password, never echoing it", "[config]") {
  ::setenv("DROPD_TEST_PG_PASSWORD", "pg-secret-value", 1);
  const auto config = loadConfigString(
      configWith("ledger:\n  backend: postgres\n  url: hostaddr=10.0.0.5 dbname=dropd\n"
                 "  password: { env: DROPD_TEST_PG_PASSWORD }\n"),
      "a.yaml");
  CHECK(config.ledger.backend == LedgerConfig::Backend::kPostgres);
  CHECK(config.ledger.url == "hostaddr=10.0.0.5 dbname=dropd");
  REQUIRE(config.ledger.password);
  CHECK(config.ledger.password->reveal() == "pg-secret-value");

  const auto no_url = errorsOf(configWith("ledger: { backend: postgres }\n"));
  REQUIRE(no_url.size() == 1);
  CHECK(no_url[0] ==
        "bad.yaml:8:9: ledger: backend: postgres needs url: a libpq connection "
        "string");
  const auto typo = errorsOf(configWith("ledger: { backend: mysql }\n"));
  REQUIRE(typo.size() == 1);
  CHECK(typo[0].find("ledger.backend") != std::string::npos);
}

TEST_CASE("ledger: postgres with a pipeline's dedupe is refused until it is built", "[config]") {
  const auto errors = errorsOf(
      "ledger: { backend: postgres, url: hostaddr=10.0.0.5 }\n"
      "endpoints:\n"
      "  local:\n"
      "    url: http://127.0.0.1:8089/v1\n"
      "pipelines:\n"
      "  - watch: [/srv/in]\n"
      "    endpoint: local\n"
      "    dedupe: sha256\n"
      "    output: { dir: /srv/out }\n");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("pipelines[0].dedupe: dedupe with ledger.backend: postgres is not built "
                       "yet (issue 16)") != std::string::npos);
}

TEST_CASE("ledger: lease is whole seconds from 2s to 1h, postgres only", "[config]") {
  const std::string pg = "ledger:\n  backend: postgres\n  url: hostaddr=10.0.0.5\n";
  CHECK(loadConfigString(configWith(pg), "a.yaml").ledger.lease == std::chrono::seconds(30));
  CHECK(loadConfigString(configWith(pg + "  lease: 2m\n"), "a.yaml").ledger.lease ==
        std::chrono::seconds(120));
  for (const char* bad : {"1s", "1500ms", "2h"}) {
    const auto errors = errorsOf(configWith(pg + "  lease: " + bad + "\n"));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "bad.yaml:11:10: ledger.lease: must be whole seconds, between 2s and 1h");
  }
  const auto sqlite = errorsOf(configWith("ledger:\n  lease: 10s\n"));
  REQUIRE(sqlite.size() == 1);
  CHECK(sqlite[0].find("ledger.lease: only for backend: postgres") != std::string::npos);
}

}  // namespace
