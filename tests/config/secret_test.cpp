#include "dropd/config/secret.hpp"

#include <cstdlib>
#include <ostream>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "dropd/config/load.hpp"

#include "support/temp_dir.hpp"

namespace {

using dropd::config::ConfigError;
using dropd::config::Secret;

template <typename T>
concept Streamable = requires(std::ostream& out, const T& value) {
  out << value;
};

static_assert(!Streamable<Secret>, "a Secret must not be printable by accident");
static_assert(!fmt::is_formattable<Secret>::value, "a Secret must not be formattable");
static_assert(!std::is_convertible_v<Secret, std::string>);

constexpr std::string_view kLeak = "sk-LEAK-0123456789";

// Loads a config whose endpoint has `endpoint_line` (4 spaces indented) and
// returns the whole error text.
std::string errorTextFor(const std::string& endpoint_line, const std::string& top = "") {
  const std::string yaml = top +
                           "endpoints:\n"
                           "  local:\n"
                           "    url: http://127.0.0.1:8089/v1\n" +
                           endpoint_line +
                           "pipelines:\n"
                           "  - { watch: [/in], endpoint: local, output: { dir: /out } }\n";
  try {
    (void)dropd::config::loadConfigString(yaml, "s.yaml", "/base");
  } catch (const ConfigError& e) {
    std::string all = e.what();
    for (const auto& d : e.diagnostics()) {
      all += "\n" + d.str() + d.key_path + d.message;
    }
    return all;
  }
  FAIL("loaded: " << yaml);
  return {};
}

}  // namespace

TEST_CASE("Secret shows its value only through reveal()", "[config]") {
  const Secret secret(std::string(kLeak), "env X");
  CHECK(secret.reveal() == kLeak);
  CHECK(secret.describe() == "<redacted> (env X)");
  const Secret copy = secret;
  CHECK(copy.reveal() == kLeak);
}

TEST_CASE("A secret never appears in an error, even when its entry is wrong", "[config]") {
  const std::string leak(kLeak);
  SECTION("the key written inline") {
    const std::string text = errorTextFor("    api_key: " + leak + "\n");
    CHECK(
        text.starts_with("s.yaml:4:14: endpoints.local.api_key: api_key must be {env: NAME} "
                         "or {file: PATH}"));
    CHECK(text.find(leak) == std::string::npos);
  }
  SECTION("inline and quoted, in a list, as a key, as the env name, as a second entry") {
    for (const std::string& line :
         {"    api_key: \"" + leak + "\"\n", "    api_key: [" + leak + "]\n",
          "    api_key: { " + leak + ": x }\n", "    api_key: { env: " + leak + " }\n",
          "    api_key: { env: A, file: " + leak + " }\n", "    api_key: { value: " + leak + " }\n",
          "    apikey: " + leak + "\n", "    api_key: { env: { " + leak + ": 1 } }\n",
          "    api_key: x\n    api_key: " + leak + "\n",
          "    headers: { Authorization: \"Bearer " + leak + "\\n\" }\n",
          "    headers: { Authorization: [" + leak + "] }\n",
          "    headers: { \"Bad Name\": " + leak + " }\n",
          "    url: https://u:" + leak + "@h/\n"}) {
      const std::string text = errorTextFor(line);
      INFO(line << "\n" << text);
      CHECK(text.find(leak) == std::string::npos);
      CHECK(text.find("sk-LEAK") == std::string::npos);
    }
  }
  SECTION("status.token written inline") {
    const std::string text =
        errorTextFor("", "status: { listen: \"127.0.0.1:1\", token: " + leak + " }\n");
    CHECK(text.starts_with("s.yaml:1:41: status.token: token must be {env: NAME} or {file: PATH}"));
    CHECK(text.find(leak) == std::string::npos);
  }
  SECTION("an env value with a line break") {
    ::setenv("DROPD_TEST_BAD_KEY", (leak + "\nX-Evil: 1").c_str(), 1);
    const std::string text = errorTextFor("    api_key: { env: DROPD_TEST_BAD_KEY }\n");
    ::unsetenv("DROPD_TEST_BAD_KEY");
    CHECK(
        text.starts_with("s.yaml:4:21: endpoints.local.api_key: the value from env "
                         "DROPD_TEST_BAD_KEY holds a control character"));
    CHECK(text.find(leak) == std::string::npos);
  }
}

TEST_CASE("A secret that cannot be resolved names the env var or file", "[config]") {
  SECTION("unset env var") {
    ::unsetenv("DROPD_TEST_UNSET");
    CHECK(errorTextFor("    api_key: { env: DROPD_TEST_UNSET }\n")
              .starts_with("s.yaml:4:21: endpoints.local.api_key: environment variable "
                           "DROPD_TEST_UNSET is not set or empty"));
  }
  SECTION("missing file, relative to the base folder") {
    CHECK(errorTextFor("    api_key: { file: keys/nope }\n")
              .starts_with("s.yaml:4:22: endpoints.local.api_key: cannot read secret file "
                           "/base/keys/nope: No such file or directory"));
  }
  SECTION("empty file") {
    const dropd::test::TempDir dir;
    const auto path = dir.write("empty", "\n");
    CHECK(errorTextFor("    api_key: { file: " + path.string() + " }\n")
              .starts_with("s.yaml:4:22: endpoints.local.api_key: secret file " + path.string() +
                           " is empty"));
  }
  SECTION("Authorization header next to api_key") {
    ::setenv("DROPD_TEST_KEY2", "k", 1);
    const std::string text =
        errorTextFor("    api_key: { env: DROPD_TEST_KEY2 }\n    headers: { Authorization: x }\n");
    ::unsetenv("DROPD_TEST_KEY2");
    CHECK(text.starts_with(
        "s.yaml:5:14: endpoints.local.headers.Authorization: api_key already sets Authorization"));
  }
  SECTION("an api-key header next to api_key with auth api-key") {
    ::setenv("DROPD_TEST_KEY2", "k", 1);
    const std::string text = errorTextFor(
        "    api_key: { env: DROPD_TEST_KEY2 }\n    auth: api-key\n    headers: { API-Key: x }\n");
    ::unsetenv("DROPD_TEST_KEY2");
    CHECK(text.starts_with(
        "s.yaml:6:14: endpoints.local.headers.API-Key: api_key already sets api-key"));
  }
  SECTION("auth none with an api_key") {
    ::setenv("DROPD_TEST_KEY2", "k", 1);
    const std::string text =
        errorTextFor("    api_key: { env: DROPD_TEST_KEY2 }\n    auth: none\n");
    ::unsetenv("DROPD_TEST_KEY2");
    CHECK(
        text.starts_with("s.yaml:4:14: endpoints.local.api_key: auth none sends no key: remove "
                         "api_key, or set auth to bearer or api-key"));
  }
  SECTION("auth api-key without an api_key") {
    CHECK(errorTextFor("    auth: api-key\n")
              .starts_with("s.yaml:4:11: endpoints.local.auth: auth api-key sends api_key, which "
                           "is not set"));
  }
  SECTION("auth api-key with an api_key that is not set: one error, at the key") {
    ::unsetenv("DROPD_TEST_UNSET");
    const std::string yaml = "    api_key: { env: DROPD_TEST_UNSET }\n    auth: api-key\n";
    const std::string text = errorTextFor(yaml);
    CHECK(
        text.starts_with("s.yaml:4:21: endpoints.local.api_key: environment variable "
                         "DROPD_TEST_UNSET is not set or empty"));
    CHECK(text.find("auth api-key sends api_key") == std::string::npos);
  }
  SECTION("an unknown auth mode") {
    CHECK(errorTextFor("    auth: basic\n")
              .starts_with("s.yaml:4:11: endpoints.local.auth: 'basic' is not one of: bearer, "
                           "api-key, none"));
  }
  SECTION("a header secret that is not set, without its value in the message") {
    ::unsetenv("DROPD_TEST_UNSET");
    CHECK(errorTextFor("    headers: { X-Org: { env: DROPD_TEST_UNSET } }\n")
              .starts_with("s.yaml:4:30: endpoints.local.headers.X-Org: environment variable "
                           "DROPD_TEST_UNSET is not set or empty"));
    CHECK(errorTextFor("    headers: { X-Org: { vault: sk-LEAK-0123456789 } }\n").find(kLeak) ==
          std::string::npos);
  }
}

TEST_CASE("Header values read {env:} and {file:} like api_key", "[config]") {
  const dropd::test::TempDir dir;
  const auto path = dir.write("org", "org-from-file\n");
  ::setenv("DROPD_TEST_HDR", "hdr-from-env", 1);
  const auto config = dropd::config::loadConfigString(
      "endpoints:\n"
      "  local:\n"
      "    url: http://127.0.0.1:8089/v1\n"
      "    auth: none\n"
      "    headers:\n"
      "      Authorization: { env: DROPD_TEST_HDR }\n"
      "      X-Org: { file: " +
          path.string() +
          " }\n"
          "      X-Plain: text\n"
          "pipelines:\n"
          "  - { watch: [/in], endpoint: local, output: { dir: /out } }\n",
      "h.yaml");
  ::unsetenv("DROPD_TEST_HDR");
  const auto& headers = config.endpoints[0].headers;
  REQUIRE(headers.size() == 3);
  CHECK(config.endpoints[0].auth == dropd::config::Auth::kNone);
  CHECK(headers[0].value() == "hdr-from-env");
  REQUIRE(headers[0].secret.has_value());
  CHECK(headers[0].secret->origin() == "env DROPD_TEST_HDR");
  CHECK(headers[0].text.empty());
  CHECK(headers[1].value() == "org-from-file");
  CHECK(headers[1].secret.has_value());
  CHECK(headers[2].value() == "text");
  CHECK_FALSE(headers[2].secret.has_value());
}
