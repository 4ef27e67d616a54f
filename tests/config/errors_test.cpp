#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "dropd/config/load.hpp"

#include "support/temp_dir.hpp"

namespace {

using dropd::config::ConfigError;
using dropd::config::Diagnostic;
using dropd::config::loadConfigFile;
using dropd::config::loadConfigString;

// Lines 1-3: one endpoint; `extra` goes in as line 4 of its mapping.
std::string endpointWith(const std::string& extra) {
  return "endpoints:\n"
         "  local:\n"
         "    url: http://127.0.0.1:8089/v1\n" +
         extra +
         "pipelines:\n"
         "  - watch: [/srv/in]\n"
         "    endpoint: local\n"
         "    output: { dir: /srv/out }\n";
}

// Lines 1-7: a valid config; `extra` goes in as line 8, inside pipelines[0].
std::string pipelineWith(const std::string& extra) {
  return "endpoints:\n"
         "  local:\n"
         "    url: http://127.0.0.1:8089/v1\n"
         "pipelines:\n"
         "  - watch: [/srv/in]\n"
         "    endpoint: local\n"
         "    output: { dir: /srv/out }\n" +
         extra;
}

std::vector<Diagnostic> diagnosticsOf(const std::string& yaml) {
  try {
    (void)loadConfigString(yaml, "bad.yaml", "/base");
  } catch (const ConfigError& e) {
    return e.diagnostics();
  }
  FAIL("the config loaded without error:\n" << yaml);
  return {};
}

// The one diagnostic a config gives, rendered.
std::string onlyError(const std::string& yaml) {
  const std::vector<Diagnostic> diagnostics = diagnosticsOf(yaml);
  INFO(yaml);
  REQUIRE(diagnostics.size() == 1);
  return diagnostics[0].str();
}

std::string fileError(const std::filesystem::path& path) {
  try {
    (void)loadConfigFile(path);
  } catch (const ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    return e.what();
  }
  FAIL("loaded");
  return {};
}

}  // namespace

TEST_CASE("The base configs of this file are valid", "[config]") {
  CHECK_NOTHROW(loadConfigString(endpointWith(""), "ok.yaml"));
  CHECK_NOTHROW(loadConfigString(pipelineWith(""), "ok.yaml"));
}

TEST_CASE("A file that cannot be read names the file and the reason", "[config]") {
  const dropd::test::TempDir dir;
  SECTION("missing") {
    const auto path = dir.path() / "nope.yaml";
    CHECK(fileError(path) ==
          path.string() + ": cannot read config file: No such file or directory");
  }
  SECTION("a folder") {
    CHECK(fileError(dir.path()) ==
          dir.path().string() + ": cannot read config file: it is a folder");
  }
  SECTION("no permission") {
    const auto path = dir.write("locked.yaml", pipelineWith(""));
    ::chmod(path.c_str(), 0);
    if (::geteuid() != 0) {  // root reads it anyway
      CHECK(fileError(path) == path.string() + ": cannot read config file: Permission denied");
    }
  }
  SECTION("empty") {
    const auto path = dir.write("empty.yaml", "# nothing\n");
    CHECK(fileError(path) == path.string() + ": config is empty: it needs endpoints and pipelines");
  }
}

TEST_CASE("Broken YAML and a wrong top level are reported with their position", "[config]") {
  SECTION("syntax error") {
    CHECK(onlyError("endpoints:\n  local: { url: x\npipelines: []\n") ==
          "bad.yaml:3:10: not valid YAML: end of map flow not found");
  }
  SECTION("top level is a list") {
    CHECK(onlyError("- a\n- b\n") == "bad.yaml:1:1: the top level must be a mapping, got a list");
  }
  SECTION("two documents") {
    CHECK(onlyError(pipelineWith("---\nfoo: 1\n")) ==
          "bad.yaml:9:1: only one YAML document is allowed");
  }
}

TEST_CASE("Unknown and duplicate keys are errors at any level", "[config]") {
  SECTION("a typo gets the nearest key") {
    CHECK(onlyError(pipelineWith("    setle: 1s\n")) ==
          "bad.yaml:8:5: pipelines[0].setle: unknown key (did you mean 'settle'?)");
  }
  SECTION("deep in an endpoint") {
    CHECK(onlyError(endpointWith("    limits: { max_inflight: 2 }\n")) ==
          "bad.yaml:4:15: endpoints.local.limits.max_inflight: unknown key (did you mean "
          "'max_in_flight'?)");
  }
  SECTION("no close key lists the known ones") {
    CHECK(onlyError(pipelineWith("colour: red\n")) ==
          "bad.yaml:8:1: colour: unknown key (known: state_dir, ledger, log, status, endpoints, "
          "pipelines)");
  }
  SECTION("duplicate key") {
    CHECK(onlyError(pipelineWith("    endpoint: other\n")) ==
          "bad.yaml:8:5: pipelines[0].endpoint: duplicate key (first at line 6)");
  }
}

TEST_CASE("Values of the wrong type are errors", "[config]") {
  SECTION("a string where a list is") {
    CHECK(onlyError(pipelineWith("    include: \"*.txt\"\n")) ==
          "bad.yaml:8:14: pipelines[0].include: expected a list, got a scalar");
  }
  SECTION("a mapping where a duration is") {
    CHECK(onlyError(pipelineWith("    settle: { s: 1 }\n")) ==
          "bad.yaml:8:13: pipelines[0].settle: expected a duration, got a mapping");
  }
  SECTION("a string where a mapping is") {
    CHECK(onlyError(endpointWith("    retry: often\n")) ==
          "bad.yaml:4:12: endpoints.local.retry: expected a mapping, got a scalar");
  }
  SECTION("a list where a bool is") {
    CHECK(onlyError(endpointWith("    stream: [true]\n")) ==
          "bad.yaml:4:13: endpoints.local.stream: expected true or false, got a list");
  }
  SECTION("yes is not a bool") {
    CHECK(onlyError(pipelineWith("    recursive: yes\n")) ==
          "bad.yaml:8:16: pipelines[0].recursive: expected true or false, got 'yes'");
  }
}

TEST_CASE("Bad durations, sizes, enums and numbers are errors", "[config]") {
  SECTION("duration with a word unit") {
    CHECK(onlyError(pipelineWith("    settle: 5 seconds\n")) ==
          "bad.yaml:8:13: pipelines[0].settle: '5 seconds' is not a duration: write a whole "
          "number and a unit (ms, s, m, h), e.g. 250ms, 10s, 5m, 1h30m");
  }
  SECTION("negative duration") {
    CHECK(onlyError(pipelineWith("    rescan_interval: -1s\n")) ==
          "bad.yaml:8:22: pipelines[0].rescan_interval: '-1s' is not a duration: durations "
          "cannot be negative");
  }
  SECTION("unknown duration unit") {
    CHECK(
        onlyError(endpointWith("    timeouts: { idle: 10x }\n"))
            .starts_with("bad.yaml:4:23: endpoints.local.timeouts.idle: '10x' is not a duration"));
  }
  SECTION("zero timeout") {
    CHECK(onlyError(endpointWith("    timeouts: { connect: 0s }\n")) ==
          "bad.yaml:4:26: endpoints.local.timeouts.connect: must be longer than 0");
  }
  SECTION("SI size") {
    CHECK(onlyError(pipelineWith("    max_file_size: 8MB\n")) ==
          "bad.yaml:8:20: pipelines[0].max_file_size: size unit 'MB' is ambiguous: write 8MiB "
          "(powers of 1024) or plain bytes");
  }
  SECTION("enum with a hint") {
    CHECK(onlyError(pipelineWith("    dedupe: sha265\n")) ==
          "bad.yaml:8:13: pipelines[0].dedupe: 'sha265' is not one of: none, sha256 (did you mean "
          "'sha256'?)");
  }
  SECTION("log level") {
    CHECK(onlyError(pipelineWith("log: { level: loud }\n")) ==
          "bad.yaml:8:15: log.level: 'loud' is not one of: trace, debug, info, warn, error");
  }
  SECTION("max_in_flight 0") {
    CHECK(onlyError(endpointWith("    limits: { max_in_flight: 0 }\n")) ==
          "bad.yaml:4:30: endpoints.local.limits.max_in_flight: must be from 1 to 4096, got 0");
  }
  SECTION("max_attempts negative") {
    CHECK(onlyError(endpointWith("    retry: { max_attempts: -3 }\n")) ==
          "bad.yaml:4:28: endpoints.local.retry.max_attempts: must be from 1 to 100, got -3");
  }
  SECTION("not a number") {
    CHECK(onlyError(endpointWith("    limits: { requests_per_minute: 1e3 }\n")) ==
          "bad.yaml:4:36: endpoints.local.limits.requests_per_minute: expected a whole number, "
          "got '1e3'");
  }
  SECTION("initial_backoff longer than max_backoff") {
    CHECK(onlyError(endpointWith("    retry: { initial_backoff: 2m, max_backoff: 30s }\n")) ==
          "bad.yaml:4:48: endpoints.local.retry.max_backoff: initial_backoff must not be longer "
          "than max_backoff");
  }
}

TEST_CASE("Missing required keys are reported at their mapping", "[config]") {
  SECTION("url") {
    CHECK(onlyError("endpoints:\n  local:\n    model: m\npipelines:\n  - watch: [/i]\n"
                    "    endpoint: local\n    output: { dir: /o }\n") ==
          "bad.yaml:3:5: endpoints.local.url: missing required key");
  }
  SECTION("watch, endpoint and output of one pipeline") {
    const auto d =
        diagnosticsOf("endpoints:\n  local:\n    url: http://h/\npipelines:\n  - name: p\n");
    REQUIRE(d.size() == 3);
    CHECK(d[0].str() == "bad.yaml:5:5: pipelines[0].watch: missing required key");
    CHECK(d[1].str() == "bad.yaml:5:5: pipelines[0].endpoint: missing required key");
    CHECK(d[2].str() == "bad.yaml:5:5: pipelines[0].output: missing required key");
  }
  SECTION("output.dir") {
    const std::string yaml = pipelineWith("");
    CHECK(onlyError(yaml.substr(0, yaml.find("output")) + "output: { }\n") ==
          "bad.yaml:7:13: pipelines[0].output.dir: missing required key");
  }
  SECTION("endpoints and pipelines") {
    const auto d = diagnosticsOf("log: { level: info }\n");
    REQUIRE(d.size() == 2);
    CHECK(d[0].str() == "bad.yaml:1:1: endpoints: missing required key");
    CHECK(d[1].str() == "bad.yaml:1:1: pipelines: missing required key");
  }
  SECTION("empty endpoints and pipelines") {
    const auto d = diagnosticsOf("endpoints: {}\npipelines: []\n");
    REQUIRE(d.size() == 2);
    CHECK(d[0].str() == "bad.yaml:1:12: endpoints: at least one endpoint is needed");
    CHECK(d[1].str() ==
          "bad.yaml:2:12: pipelines: expected a list of at least one pipeline, got an empty list");
  }
}

TEST_CASE("URLs, listen addresses and names are checked", "[config]") {
  const std::string kPipelines =
      "pipelines:\n  - { watch: [/i], endpoint: local, output: { dir: /o } }\n";
  SECTION("not http") {
    CHECK(onlyError(kPipelines + "endpoints:\n  local:\n    url: ftp://h/v1\n") ==
          "bad.yaml:5:10: endpoints.local.url: url scheme 'ftp' is not supported: use http or "
          "https");
  }
  SECTION("no scheme") {
    CHECK(onlyError(kPipelines + "endpoints:\n  local:\n    url: localhost:8080\n") ==
          "bad.yaml:5:10: endpoints.local.url: url must start with http:// or https://");
  }
  SECTION("status.listen not host:port") {
    CHECK(onlyError(pipelineWith("status: { listen: 9464 }\n")) ==
          "bad.yaml:8:19: status.listen: '9464' is not HOST:PORT (e.g. 127.0.0.1:9464, "
          "[::1]:9464)");
  }
  SECTION("non-loopback status without token") {
    CHECK(onlyError(pipelineWith("status: { listen: \"0.0.0.0:9464\" }\n")) ==
          "bad.yaml:8:19: status.listen: a non-loopback address needs token: {env: NAME} or "
          "{file: PATH}");
  }
  SECTION("pipeline name with a slash") {
    CHECK(onlyError(pipelineWith("    name: a/b\n")) ==
          "bad.yaml:8:11: pipelines[0].name: a name is 1 to 64 letters, digits, '_' or '-'");
  }
}

TEST_CASE("Checks across keys point at the key at fault", "[config]") {
  SECTION("a pipeline naming an unknown endpoint") {
    const std::string yaml = pipelineWith("");
    const std::string fixed = yaml.substr(0, yaml.find("endpoint: local")) + "endpoint: lokal\n" +
                              "    output: { dir: /srv/out }\n";
    CHECK(onlyError(fixed) ==
          "bad.yaml:6:15: pipelines[0].endpoint: unknown endpoint 'lokal' (did you mean 'local'?)");
  }
  SECTION("an unknown template placeholder") {
    CHECK(onlyError(pipelineWith("    prompt: { user: \"Read {{flename}} now\" }\n")) ==
          "bad.yaml:8:21: pipelines[0].prompt.user: unknown placeholder {{flename}} (did you mean "
          "{{filename}}?) at line 1, column 6 of the text");
  }
  SECTION("two pipelines writing the same output dir") {
    CHECK(onlyError(pipelineWith("  - { name: b, watch: [/srv/in2], endpoint: local, "
                                 "output: { dir: /srv/./out/ } }\n")) ==
          "bad.yaml:8:67: pipelines[1].output.dir: output dir overlaps pipelines[0].output.dir "
          "(/srv/out): results would mix");
  }
  SECTION("an output dir inside another one") {
    CHECK(onlyError(pipelineWith("  - { name: b, watch: [/srv/in2], endpoint: local, "
                                 "output: { dir: /srv/out/b } }\n"))
              .starts_with("bad.yaml:8:67: pipelines[1].output.dir: output dir overlaps"));
  }
  SECTION("duplicate pipeline names") {
    CHECK(onlyError("endpoints: { e: { url: \"http://h/\" } }\npipelines:\n"
                    "  - { name: p, watch: [/a], endpoint: e, output: { dir: /a-out } }\n"
                    "  - { name: p, watch: [/b], endpoint: e, output: { dir: /b-out } }\n") ==
          "bad.yaml:4:13: pipelines[1].name: duplicate pipeline name 'p' (also pipelines[0])");
  }
  SECTION("move without dir") {
    CHECK(onlyError(pipelineWith("    on_success: { action: move }\n")) ==
          "bad.yaml:8:17: pipelines[0].on_success.dir: action move needs a dir");
  }
  SECTION("a failed file is never deleted") {
    CHECK(onlyError(pipelineWith("    on_failure: { action: delete }\n")) ==
          "bad.yaml:8:27: pipelines[0].on_failure.action: 'delete' is not one of: move, keep");
  }
  SECTION("watch inside the done folder") {
    CHECK(onlyError(pipelineWith("    on_success: { action: move, dir: /srv }\n")) ==
          "bad.yaml:5:13: pipelines[0].watch[0]: watched folder is the same as or inside "
          "pipelines[0].on_success.dir: a loop");
  }
  SECTION("output inside a recursively watched folder") {
    const std::string yaml = pipelineWith("");
    CHECK(onlyError(yaml.substr(0, yaml.find("output")) + "output: { dir: /srv/in/results }\n") ==
          "bad.yaml:7:20: pipelines[0].output.dir: folder is inside the recursively watched "
          "pipelines[0].watch[0]: a loop");
  }
  SECTION("reserved request fields in params") {
    CHECK(onlyError(endpointWith("    params: { model: gpt }\n")) ==
          "bad.yaml:4:22: endpoints.local.params.model: dropd sets this field itself (see model "
          "and stream)");
  }
  SECTION("params JSON cannot carry, at their own line and column") {
    CHECK(onlyError(endpointWith("    params: { temperature: .inf }\n")) ==
          "bad.yaml:4:28: endpoints.local.params.temperature: .inf is not a finite number, and "
          "JSON cannot carry it (quote it for a string)");
    CHECK(onlyError(endpointWith("    params:\n      logit_bias: { a: [1, nan] }\n")) ==
          "bad.yaml:5:28: endpoints.local.params.logit_bias.a[1]: nan is not a finite number, "
          "and JSON cannot carry it (quote it for a string)");
    CHECK(onlyError(endpointWith("    params: { seed: 99999999999999999999 }\n")) ==
          "bad.yaml:4:21: endpoints.local.params.seed: integer 99999999999999999999 does not "
          "fit in 64 bits");
    CHECK(onlyError(endpointWith("    params: { n: !!binary AAAA }\n")) ==
          "bad.yaml:4:18: endpoints.local.params.n: the tag tag:yaml.org,2002:binary is not "
          "supported in params");
  }
  SECTION("every bad param is reported") {
    CHECK(diagnosticsOf(endpointWith("    params: { a: -.inf, b: [.nan, ok], c: 1 }\n")).size() ==
          2);
  }
}

// Line 1 an endpoint `e`, then one flow-style pipeline per line from line 3.
std::string pipelines(const std::vector<std::string>& lines) {
  std::string yaml = "endpoints: { e: { url: \"http://h/\" } }\npipelines:\n";
  for (const std::string& line : lines) {
    yaml += "  - { endpoint: e, " + line + " }\n";
  }
  return yaml;
}

TEST_CASE("Pipelines that feed each other in a loop are refused", "[config]") {
  SECTION("two: a writes into b's inbox, b into a's") {
    CHECK(onlyError(pipelines({"name: a, watch: [/srv/a], output: { dir: /srv/b }",
                               "name: b, watch: [/srv/b], output: { dir: /srv/a }"})) ==
          "bad.yaml:4:61: pipelines[1].output.dir: folder is watched by pipelines[0].watch[0] "
          "(/srv/a), which closes a loop: pipelines \"a\" -> \"b\" -> \"a\"");
  }
  SECTION("three, one of them through a moved source, one inside a recursive root") {
    CHECK(onlyError(pipelines({"name: a, watch: [/srv/a], output: { dir: /srv/b/deep }",
                               "name: b, watch: [/srv/b], output: { dir: /srv/out-b },"
                               " on_failure: { action: move, dir: /srv/c }",
                               "name: c, watch: [/srv/c], output: { dir: /srv/out-c },"
                               " on_success: { action: move, dir: /srv/a }"})) ==
          "bad.yaml:5:108: pipelines[2].on_success.dir: folder is watched by "
          "pipelines[0].watch[0] (/srv/a), which closes a loop: pipelines \"a\" -> \"b\" -> "
          "\"c\" -> \"a\"");
  }
  SECTION("a loop of two beside a chain is reported once, for the loop") {
    CHECK(onlyError(pipelines({"name: in, watch: [/srv/in], output: { dir: /srv/a }",
                               "name: a, watch: [/srv/a], output: { dir: /srv/b }",
                               "name: b, watch: [/srv/b], output: { dir: /srv/out-b },"
                               " on_success: { action: move, dir: /srv/a/from-b }"}))
              .ends_with("pipelines \"a\" -> \"b\" -> \"a\""));
  }
  SECTION("one that feeds itself keeps its own message") {
    CHECK(onlyError(pipelines({"name: a, watch: [/srv/a], output: { dir: /srv/a }"})) ==
          "bad.yaml:3:37: pipelines[0].watch[0]: watched folder is the same as or inside "
          "pipelines[0].output.dir: a loop");
  }
  SECTION("a folder inside a root that is not recursive is no loop") {
    const std::string a = "name: a, watch: [/srv/a], output: { dir: /srv/b/sub }";
    CHECK_NOTHROW(loadConfigString(
        pipelines({a, "name: b, watch: [/srv/b], recursive: false, output: { dir: /srv/a }"}),
        "ok.yaml"));
    CHECK(onlyError(pipelines({a, "name: b, watch: [/srv/b], output: { dir: /srv/a }"}))
              .ends_with("pipelines \"a\" -> \"b\" -> \"a\""));
  }
  SECTION("a chain is fine: a's results are b's inbox") {
    CHECK_NOTHROW(
        loadConfigString(pipelines({"name: a, watch: [/srv/a], output: { dir: /srv/b }",
                                    "name: b, watch: [/srv/b], output: { dir: /srv/c },"
                                    " on_success: { action: move, dir: /srv/b-done }",
                                    "name: c, watch: [/srv/c], output: { dir: /srv/out }"}),
                         "ok.yaml"));
  }
}

TEST_CASE("A loop through a symlinked spelling of a folder is refused", "[config]") {
  const dropd::test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "b-in");
  std::filesystem::create_directory_symlink(dir.path() / "b-in", dir.path() / "to-b");
  const std::string root = dir.path().string();
  const std::string yaml =
      pipelines({"name: a, watch: [" + root + "/a-in], output: { dir: " + root + "/to-b/results }",
                 "name: b, watch: [" + root + "/b-in], output: { dir: " + root + "/a-in }"});
  CHECK(onlyError(yaml).ends_with("pipelines \"a\" -> \"b\" -> \"a\""));
}

TEST_CASE("Roots of one pipeline that overlap are refused", "[config]") {
  const auto with_watch = [](const std::string& watch) {
    return pipelines({"name: a, watch: " + watch + ", output: { dir: /srv/out }"});
  };
  SECTION("the same root twice, spelled differently") {
    CHECK(onlyError(with_watch("[/srv/in, /srv/./in/]")) ==
          "bad.yaml:3:46: pipelines[0].watch[1]: watched folder overlaps pipelines[0].watch[0] "
          "(/srv/in): its files would be sent twice");
  }
  SECTION("a root inside another, or holding it") {
    CHECK(onlyError(with_watch("[/srv/in, /srv/in/sub]")).starts_with("bad.yaml:3:46: "));
    CHECK(onlyError(with_watch("[/srv/in/sub, /srv/in]")).starts_with("bad.yaml:3:50: "));
  }
  SECTION("roots with the same folder name are fine and get apart prefixes") {
    const auto config = loadConfigString(with_watch("[/r1/x, /r2/x]"), "ok.yaml");
    CHECK(config.pipelines[0].record_prefixes == std::vector<std::string>{"r1/x/", "r2/x/"});
  }
}

TEST_CASE("Every error of a file is reported, sorted by position", "[config]") {
  const auto d = diagnosticsOf(R"(state_dir: ~/dropd
log: { level: verbose, fromat: json }
endpoints:
  local:
    url: gopher://h/
    limits: { max_in_flight: 0 }
pipelines:
  - watch: [/in]
    endpoint: nowhere
    settle: 10x
    output: { dir: /out }
)");
  std::vector<std::string> lines;
  for (const auto& diagnostic : d) {
    lines.push_back(diagnostic.file + ":" + std::to_string(diagnostic.line) + ":" +
                    std::to_string(diagnostic.col) + ": " + diagnostic.key_path);
  }
  CHECK(lines == std::vector<std::string>{"bad.yaml:1:12: state_dir", "bad.yaml:2:15: log.level",
                                          "bad.yaml:2:24: log.fromat",
                                          "bad.yaml:5:10: endpoints.local.url",
                                          "bad.yaml:6:30: endpoints.local.limits.max_in_flight",
                                          "bad.yaml:9:15: pipelines[0].endpoint",
                                          "bad.yaml:10:13: pipelines[0].settle"});
}

TEST_CASE("A key with no value is an error, not the default", "[config]") {
  CHECK(onlyError(pipelineWith("    settle:\n")) ==
        "bad.yaml:8:5: pipelines[0].settle: has no value");
  CHECK(onlyError(pipelineWith("log:\n")) == "bad.yaml:8:1: log: has no value");
  CHECK(onlyError("endpoints:\n  local:\n    url:\n" + pipelineWith("").substr(54)) ==
        "bad.yaml:3:5: endpoints.local.url: has no value");
  CHECK(onlyError(pipelineWith("    exclude: [\"\"]\n")) ==
        "bad.yaml:8:15: pipelines[0].exclude[0]: must not be empty");
}
