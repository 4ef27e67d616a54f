#include "dropd/config/secret_mask.hpp"

#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using dropd::config::Config;
using dropd::config::Endpoint;
using dropd::config::Secret;
using dropd::config::SecretMask;

TEST_CASE("SecretMask replaces each configured secret wherever it occurs", "[config]") {
  Config config;
  Endpoint main;
  main.name = "main";
  main.api_key = Secret("sk-live-0123456789abcdef", "env K");
  main.headers = {{"X-Api-Key", "hdr-secret-42", {}},
                  {"Authorization-Proxy", "Basic dXNlcjpwYXNz", {}},
                  {"X-Title", "dropd", {}},
                  {"X-Team", {}, Secret("team-from-env-77", "env T")}};
  config.endpoints.push_back(main);
  SecretMask mask;
  mask.addFrom(config);

  CHECK(mask.apply("401 Incorrect API key provided: sk-live-0123456789abcdef.") ==
        "401 Incorrect API key provided: [redacted endpoints.main.api_key].");
  CHECK(mask.apply("got hdr-secret-42 and hdr-secret-42") ==
        "got [redacted endpoints.main.headers.X-Api-Key] and "
        "[redacted endpoints.main.headers.X-Api-Key]");
  // "Scheme credentials": the credentials alone are a secret too.
  CHECK(mask.apply("dXNlcjpwYXNz") == "[redacted endpoints.main.headers.Authorization-Proxy]");
  // A header that carries no credentials is not masked, unless its value
  // came from {env:} or {file:}: then it was meant to be secret.
  CHECK(mask.apply("X-Title: dropd") == "X-Title: dropd");
  CHECK(mask.apply("X-Team: team-from-env-77") ==
        "X-Team: [redacted endpoints.main.headers.X-Team]");
  CHECK(mask.finds("..sk-live-0123456789abcdef"));
  CHECK_FALSE(mask.finds("sk-live-0123456789abcde"));  // a prefix is not the secret
}

TEST_CASE("SecretMask finds the JSON-escaped forms of a value, once and twice", "[config]") {
  SecretMask mask;
  const std::string value = R"(a"b\c)";
  mask.add(value, "status.token");
  const std::string once = nlohmann::json(value).dump();
  const std::string twice = nlohmann::json(once).dump();
  for (const std::string& text : {value, once, twice}) {
    const std::string masked = mask.apply("x " + text + " y");
    INFO(text << " -> " << masked);
    CHECK(masked.find("[redacted status.token]") != std::string::npos);
    CHECK(masked.find("a\"b") == std::string::npos);
    CHECK(masked.find(R"(a\"b)") == std::string::npos);
  }
  // In serialised JSON only the escaped forms are looked for, so the
  // document's own quotes are never taken for part of a secret, and the
  // result is still the same JSON with the value replaced.
  const nlohmann::json record = {{"message", "echo: " + value}, {"n", 1}};
  const auto masked = nlohmann::json::parse(mask.applyToJson(record.dump()));
  CHECK(masked["message"] == "echo: [redacted status.token]");
  CHECK(masked["n"] == 1);
}

TEST_CASE("SecretMask: no secret survives, whatever text surrounds it", "[config]") {
  // Property: for random secrets (one may contain another) and random text
  // around their occurrences, no secret is left in the output, and text with
  // no secret in it comes back unchanged.
  std::mt19937_64 rng(7);
  const auto randomText = [&rng](std::size_t max) {
    static constexpr char kChars[] = "abcdefgh\"\\ ";
    std::string out(rng() % max, ' ');
    for (char& c : out) {
      c = kChars[rng() % (sizeof kChars - 1)];
    }
    return out;
  };
  for (int round = 0; round < 500; ++round) {
    SecretMask mask;
    std::vector<std::string> secrets;
    for (int i = 0; i < 3; ++i) {
      std::string s = randomText(10) + "k" + std::to_string(round);
      if (i == 2) {
        s = secrets[0] + s;  // a secret that holds another
      }
      secrets.push_back(s);
      mask.add(s, "s" + std::to_string(i));
    }
    std::string text;
    for (int i = 0; i < 6; ++i) {
      text += randomText(12) + secrets[rng() % secrets.size()];
    }
    const std::string masked = mask.apply(text);
    for (const std::string& s : secrets) {
      INFO(text << " -> " << masked);
      CHECK(masked.find(s) == std::string::npos);
    }
    const std::string plain = "no secret here " + randomText(20);
    CHECK(mask.apply(plain) == plain);
  }
}
