#include "dropd/config/load.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace {

using namespace dropd::config;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kMinimal = R"(endpoints:
  local:
    url: http://127.0.0.1:8089/v1/chat/completions
pipelines:
  - watch: [/srv/in]
    endpoint: local
    output: { dir: /srv/out }
)";

}  // namespace

TEST_CASE("The example config loads with the values it shows", "[config]") {
  const fs::path example = fs::path(DROPD_SOURCE_DIR) / "config" / "dropd.example.yaml";
  const Config config = loadConfigFile(example);
  const fs::path cwd = fs::current_path();
  CHECK(describeSummary(config) == "config OK: 1 pipelines, 1 endpoints");
  CHECK(config.state_dir == cwd / "local" / "state");
  CHECK(config.log.level == LogLevel::kInfo);
  REQUIRE(config.status.has_value());
  CHECK(config.status->address.port == 9464);
  CHECK_FALSE(config.status->token.has_value());

  REQUIRE(config.endpoints.size() == 1);
  const Endpoint& endpoint = config.endpoints[0];
  CHECK(endpoint.name == "local");
  CHECK(endpoint.url.port == 8089);
  CHECK(endpoint.url.target == "/v1/chat/completions");
  CHECK(endpoint.model == "fake");
  CHECK_FALSE(endpoint.api_key.has_value());
  CHECK(endpoint.tls.ca_file.empty());
  CHECK(endpoint.params == nlohmann::json::object());

  REQUIRE(config.pipelines.size() == 1);
  const Pipeline& pipeline = config.pipelines[0];
  CHECK(pipeline.name == "summarize");
  CHECK(pipeline.watch == std::vector<fs::path>{cwd / "local" / "inbox"});
  CHECK(pipeline.output_dir == cwd / "local" / "outbox");
  CHECK(pipeline.on_success.action == SourceAction::kMove);
  CHECK(pipeline.on_success.dir == cwd / "local" / "done");
  CHECK(pipeline.on_failure.dir == cwd / "local" / "failed");
  CHECK(pipeline.prompt.user.source == "Summarize {{filename}}:\n\n{{content}}");
  CHECK(pipeline.endpoint == "local");
}

TEST_CASE("Keys left out keep the documented defaults", "[config]") {
  const Config config = loadConfigString(kMinimal, "min.yaml");
  CHECK(config.state_dir == "/var/lib/dropd");
  CHECK(config.log.level == LogLevel::kInfo);
  CHECK(config.log.format == LogFormat::kText);
  CHECK_FALSE(config.status.has_value());
  SECTION("endpoint") {
    const Endpoint& e = config.endpoints.at(0);
    CHECK(e.model.empty());
    CHECK_FALSE(e.api_key.has_value());
    CHECK(e.headers.empty());
    CHECK(e.tls.verify);
    CHECK(e.timeouts.connect == 10s);
    CHECK(e.timeouts.request == 300s);
    CHECK(e.timeouts.idle == 60s);
    CHECK(e.limits.max_in_flight == 8);
    CHECK(e.limits.requests_per_minute == 0);
    CHECK(e.limits.tokens_per_minute == 0);
    CHECK_FALSE(e.limits.adaptive);
    CHECK(e.retry.max_attempts == 6);
    CHECK(e.retry.initial_backoff == 1s);
    CHECK(e.retry.max_backoff == 60s);
    CHECK(e.params.empty());
    CHECK_FALSE(e.stream);
  }
  SECTION("pipeline") {
    const Pipeline& p = config.pipelines.at(0);
    CHECK(p.name == "pipeline0");
    CHECK(p.recursive);
    CHECK(p.include == std::vector<std::string>{"*"});
    CHECK(p.exclude == std::vector<std::string>{".*", "*~", "*.tmp", "*.part", "*.swp", "@eaDir",
                                                "Thumbs.db", "desktop.ini"});
    CHECK(p.settle == 500ms);
    CHECK(p.rescan_interval == 60s);
    CHECK(p.max_file_size_bytes == 8 * 1024 * 1024);
    CHECK(p.binary == BinaryPolicy::kSkip);
    CHECK(p.dedupe == Dedupe::kNone);
    CHECK(p.prompt.system.source == "You summarize documents.");
    CHECK(p.prompt.user.uses(Placeholder::kContent));
    CHECK(p.on_success.action == SourceAction::kKeep);
    CHECK(p.on_failure.action == SourceAction::kKeep);
  }
  SECTION("an empty status mapping turns the server on at its default address") {
    const Config with_status = loadConfigString(std::string(kMinimal) + "status: {}\n", "s.yaml");
    REQUIRE(with_status.status.has_value());
    CHECK(with_status.status->listen == "127.0.0.1:9464");
    CHECK(with_status.status->address.loopback);
  }
}

TEST_CASE("params scalars become JSON by the YAML 1.2 core schema", "[config]") {
  const Config config = loadConfigString(R"(endpoints:
  e:
    url: http://localhost/v1
    params:
      hex: 0x10
      octal: 0o17
      plus: +1
      exp: 1e3
      word: yes
      quoted_inf: ".inf"
      quoted_number: '0x10'
      tagged: !!str 12
      nothing:
      upper: TRUE
      list: [+2, 0.5, Null, "nan"]
pipelines:
  - watch: [/srv/in]
    endpoint: e
    output: { dir: /srv/out }
)",
                                         "p.yaml");
  const nlohmann::json& params = config.endpoints[0].params;
  CHECK(params == nlohmann::json::parse(R"({"hex":16,"octal":15,"plus":1,"exp":1000.0,
      "word":"yes","quoted_inf":".inf","quoted_number":"0x10","tagged":"12","nothing":null,
      "upper":true,"list":[2,0.5,null,"nan"]})"));
  CHECK(params["exp"].is_number_float());
  CHECK(params["hex"].is_number_integer());
}

TEST_CASE("Values are read into their types, in file order", "[config]") {
  const Config config = loadConfigString(R"(state_dir: state/./db/
log: { level: debug, format: json }
endpoints:
  zeta:
    url: https://api.example.com/v1/chat/completions
    headers: { X-Team: docs, A-First: "1" }
    params: { temperature: 0.2, max_tokens: 1024, stop: ["\n"], seed: "42", echo: true, x: ~ }
    limits: { max_in_flight: 1, requests_per_minute: 60, tokens_per_minute: 90000, adaptive: true }
  alpha:
    url: http://localhost/v1
pipelines:
  - name: b
    watch: [in/, /abs/in2]
    recursive: false
    settle: 1m30s
    max_file_size: 512KiB
    binary: send
    dedupe: sha256
    endpoint: alpha
    output: { dir: out }
    on_success: { action: delete }
)",
                                         "t.yaml", "/base");
  CHECK(config.state_dir == "/base/state/db");
  CHECK(config.log.level == LogLevel::kDebug);
  CHECK(config.log.format == LogFormat::kJson);
  REQUIRE(config.endpoints.size() == 2);
  CHECK(config.endpoints[0].name == "zeta");
  CHECK(config.endpoints[1].name == "alpha");
  CHECK(config.findEndpoint("alpha") == &config.endpoints[1]);
  CHECK(config.findEndpoint("nope") == nullptr);
  const Endpoint& zeta = config.endpoints[0];
  REQUIRE(zeta.headers.size() == 2);
  CHECK(zeta.headers[0].name == "X-Team");
  CHECK(zeta.headers[0].value() == "docs");
  CHECK_FALSE(zeta.headers[0].secret.has_value());
  CHECK(zeta.headers[1].name == "A-First");
  CHECK(zeta.params ==
        nlohmann::json::parse(R"({"temperature":0.2,"max_tokens":1024,"stop":["\n"],"seed":"42",)"
                              R"("echo":true,"x":null})"));
  CHECK(zeta.limits.tokens_per_minute == 90000);
  CHECK(zeta.limits.adaptive);
  const Pipeline& p = config.pipelines[0];
  CHECK(p.watch == std::vector<fs::path>{"/base/in", "/abs/in2"});
  CHECK(p.record_prefixes == std::vector<std::string>{"in/", "in2/"});
  CHECK(p.output_dir == "/base/out");
  CHECK(p.settle == 90s);
  CHECK(p.max_file_size_bytes == 512 * 1024);
  CHECK(p.binary == BinaryPolicy::kSend);
  CHECK(p.dedupe == Dedupe::kSha256);
  CHECK(p.on_success.action == SourceAction::kDelete);
  CHECK(describeSummary(config) == "config OK: 1 pipelines, 2 endpoints");
}

TEST_CASE("api_key and token resolve from env and from a file", "[config]") {
  const dropd::test::TempDir dir;
  dir.write("key", "sk-from-file\n");
  ::setenv("DROPD_TEST_KEY", "sk-from-env", 1);
  const std::string yaml = R"(status: { listen: "0.0.0.0:9464", token: { file: key } }
endpoints:
  a: { url: "http://h/", api_key: { env: DROPD_TEST_KEY } }
  b: { url: "http://h/", api_key: { file: )" +
                           (dir.path() / "key").string() + R"( } }
pipelines:
  - { watch: [/in], endpoint: a, output: { dir: /out } }
)";
  const Config config = loadConfigString(yaml, "k.yaml", dir.path());
  ::unsetenv("DROPD_TEST_KEY");
  REQUIRE(config.endpoints[0].api_key.has_value());
  CHECK(config.endpoints[0].api_key->reveal() == "sk-from-env");
  CHECK(config.endpoints[0].api_key->describe() == "<redacted> (env DROPD_TEST_KEY)");
  CHECK(config.endpoints[1].api_key->reveal() == "sk-from-file");
  REQUIRE(config.status->token.has_value());
  CHECK(config.status->token->reveal() == "sk-from-file");
  CHECK(config.status->token->origin() == "file " + (dir.path() / "key").string());
  CHECK_FALSE(config.status->address.loopback);
}

TEST_CASE("loadConfigFile resolves relative paths against the working directory", "[config]") {
  const dropd::test::TempDir dir;
  const fs::path file = dir.write("c.yaml", kMinimal + std::string("state_dir: rel\n"));
  CHECK(loadConfigFile(file).state_dir == fs::current_path() / "rel");
}
