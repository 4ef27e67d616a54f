// A pipeline's `extract:` (docs/config.md, "pipelines[i].extract").
#include <catch2/catch.hpp>

#include "dropd/config/load.hpp"

namespace {

using namespace dropd::config;
using namespace std::chrono_literals;

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

TEST_CASE("extract: is off unless written, and {} takes every default", "[config]") {
  CHECK_FALSE(loadConfigString(pipelineWith(""), "a.yaml").pipelines[0].extract.has_value());
  const auto e = loadConfigString(pipelineWith("    extract: {}\n"), "a.yaml").pipelines[0].extract;
  REQUIRE(e.has_value());
  CHECK(e->formats.empty());
  CHECK(e->max_pages == 0);
  CHECK(e->max_chars == 1'000'000);
  CHECK_FALSE(e->ocr);
  CHECK(e->timeout == 60s);
  CHECK(e->memory_bytes == 1ull << 30);
  CHECK(e->helpers == 2);
  CHECK(e->max_tries == 3);
}

TEST_CASE("extract: reads every key into its type", "[config]") {
  const auto e = loadConfigString(pipelineWith("    extract:\n"
                                               "      formats: [pdf, docx]\n"
                                               "      max_pages: 20\n"
                                               "      max_chars: 5000\n"
                                               "      ocr: { languages: [eng, deu] }\n"
                                               "      timeout: 90s\n"
                                               "      memory: 512MiB\n"
                                               "      helpers: 4\n"
                                               "      max_tries: 2\n"),
                                  "a.yaml")
                     .pipelines[0]
                     .extract;
  REQUIRE(e.has_value());
  CHECK(e->formats == std::vector<std::string>{"pdf", "docx"});
  CHECK(e->max_pages == 20);
  CHECK(e->max_chars == 5000);
  CHECK(e->ocr);
  CHECK(e->ocr_languages == std::vector<std::string>{"eng", "deu"});
  CHECK(e->timeout == 90s);
  CHECK(e->memory_bytes == 512ull << 20);
  CHECK(e->helpers == 4);
  CHECK(e->max_tries == 2);
  SECTION("formats: all and ocr: true") {
    const auto all =
        loadConfigString(pipelineWith("    extract: { formats: all, ocr: true }\n"), "a.yaml")
            .pipelines[0]
            .extract;
    CHECK(all->formats.empty());
    CHECK(all->ocr);
    CHECK(all->ocr_languages == std::vector<std::string>{"eng"});
  }
}

TEST_CASE("extract: refuses what it cannot do, naming the key", "[config]") {
  CHECK(onlyError(pipelineWith("    extract: { formats: [pdf, rtf] }\n")) ==
        "bad.yaml:8:25: pipelines[0].extract.formats: unknown format \"rtf\" (known: text, pdf, "
        "docx, xlsx, pptx, odt, ods, odp, epub, html, email, image, or `all`)");
  CHECK(onlyError(pipelineWith("    extract: { formats: [] }\n")) ==
        "bad.yaml:8:25: pipelines[0].extract.formats: an empty list accepts nothing: leave "
        "`extract:` out instead");
  CHECK(onlyError(pipelineWith("    extract: { timeout: 10ms }\n")) ==
        "bad.yaml:8:25: pipelines[0].extract.timeout: must be between 100ms and 24h");
  CHECK(onlyError(pipelineWith("    extract: { memory: 1MiB }\n")) ==
        "bad.yaml:8:24: pipelines[0].extract.memory: must be at least 64MiB (a helper needs room "
        "for its libraries)");
  CHECK_THAT(onlyError(pipelineWith("    extract: { helpers: 0 }\n")),
             Catch::StartsWith("bad.yaml:8:25: pipelines[0].extract.helpers:"));
  CHECK_THAT(onlyError(pipelineWith("    extract: { ocr: { languages: [\"en-US\"] } }\n")),
             Catch::Contains("pipelines[0].extract.ocr.languages: expected Tesseract language"));
  CHECK_THAT(onlyError(pipelineWith("    extract: { max_try: 3 }\n")),
             Catch::Contains("pipelines[0].extract.max_try") && Catch::Contains("max_tries"));
  CHECK(onlyError(pipelineWith("    binary: send\n    extract: {}\n")) ==
        "bad.yaml:8:13: pipelines[0].binary: binary: send cannot be used with extract: (files "
        "that are not text are extracted, not sent as bytes)");
}

}  // namespace
