// A pipeline's `chunking:` (docs/chunking.md).
#include <catch2/catch.hpp>

#include "dropd/config/load.hpp"

namespace {

using namespace dropd::config;

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

std::string onlyError(const std::string& yaml) {
  try {
    (void)loadConfigString(yaml, "bad.yaml", "/base");
  } catch (const ConfigError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    return e.diagnostics()[0].str();
  }
  FAIL("the config loaded without error:\n" << yaml);
  return {};
}

TEST_CASE("chunking: is off unless written; map and reduce have defaults", "[config]") {
  CHECK_FALSE(loadConfigString(pipelineWith(""), "a.yaml").pipelines[0].chunking.has_value());
  const Pipeline p = loadConfigString(pipelineWith("    prompt: { system: S, user: \"U "
                                                   "{{content}}\" }\n"
                                                   "    chunking: { max_tokens: 3000 }\n"),
                                      "a.yaml")
                         .pipelines[0];
  REQUIRE(p.chunking.has_value());
  CHECK(p.chunking->max_tokens == 3000);
  CHECK(p.chunking->overlap == 0);
  CHECK(p.chunking->map.user.source == "U {{content}}");
  CHECK(p.chunking->reduce.system.source == "S");
  CHECK(p.chunking->reduce.user.uses(Placeholder::kContent));
}

TEST_CASE("chunking: reads every key", "[config]") {
  const auto c =
      loadConfigString(pipelineWith("    chunking:\n"
                                    "      max_tokens: 2000\n"
                                    "      overlap: 100\n"
                                    "      map: { user: \"Part: {{content}}\" }\n"
                                    "      reduce: { system: R, user: \"{{content}}\" }\n"),
                       "a.yaml")
          .pipelines[0]
          .chunking;
  REQUIRE(c.has_value());
  CHECK(c->overlap == 100);
  CHECK(c->map.user.source == "Part: {{content}}");
  CHECK(c->map.system.source == "You summarize documents.");  // the pipeline's
  CHECK(c->reduce.system.source == "R");
}

TEST_CASE("chunking: refuses bad values with their place", "[config]") {
  CHECK(onlyError(pipelineWith("    chunking: { overlap: 10 }\n")) ==
        "bad.yaml:8:15: pipelines[0].chunking.max_tokens: missing required key");
  CHECK(onlyError(pipelineWith("    chunking: { max_tokens: 8 }\n")) ==
        "bad.yaml:8:29: pipelines[0].chunking.max_tokens: must be from 16 to 100000000, got 8");
  CHECK(onlyError(pipelineWith("    chunking: { max_tokens: 100, overlap: 51 }\n")) ==
        "bad.yaml:8:43: pipelines[0].chunking.overlap: must be from 0 to 50, got 51");
  CHECK(onlyError(pipelineWith("    chunking: { max_tokens: 100, map: { user: hi } }\n")) ==
        "bad.yaml:8:39: pipelines[0].chunking.map: must use {{content}} (the chunk) in system "
        "or user");
  CHECK(onlyError(pipelineWith("    chunking: { max_tokens: 100, size: 3 }\n"))
            .find("pipelines[0].chunking.size") != std::string::npos);
}

}  // namespace
