// FakeLlm's rate limits and the faults that need a clock or raw writes,
// over real loopback HTTP.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/fake_llm/fake_llm.hpp"
#include "dropd/net/http_client.hpp"

#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using namespace dropd;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct LimitsHarness {
  explicit LimitsHarness(test::LoopFixture& fixture, fake_llm::FakeLlmConfig config = {})
      : loop(fixture) {
    auto started = fake_llm::FakeLlm::start(loop.get(), std::move(config), clock);
    REQUIRE(started);
    fake = std::move(*started);
    const auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(fake->port()) +
                                     "/v1/chat/completions");
    auto created = net::HttpClient::create(loop.get(), *url, {});
    REQUIRE(created);
    client = std::move(*created);
  }

  Result<net::HttpResponse> call(const std::string& target, std::string body) {
    std::optional<Result<net::HttpResponse>> outcome;
    net::HttpRequest request;
    request.target = target;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = std::move(body);
    client->send(std::move(request), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    loop.runUntil([&] { return outcome.has_value(); });
    return std::move(*outcome);
  }

  Result<net::HttpResponse> chat(const std::string& user, int max_tokens = 0) {
    json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", user}}}}};
    if (max_tokens > 0) {
      body["max_tokens"] = max_tokens;
    }
    return call("/v1/chat/completions", body.dump());
  }

  test::LoopFixture& loop;
  test::ManualClock clock;
  std::unique_ptr<fake_llm::FakeLlm> fake;
  std::unique_ptr<net::HttpClient> client;
};

std::string header(const net::HttpResponse& response, const char* name) {
  const std::string* value = response.header(name);
  return value ? *value : "<absent>";
}

}  // namespace

TEST_CASE("FakeLlm answers 429 with OpenAI's body and headers over --rpm", "[fake_llm]") {
  test::LoopFixture loop;
  fake_llm::FakeLlmConfig config;
  config.limits = {.rpm = 60, .tpm = 0};  // 1/s, burst 2
  LimitsHarness h{loop, config};
  const auto first = h.chat("one");
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(header(*first, "x-ratelimit-limit-requests") == "60");
  CHECK(header(*first, "x-ratelimit-remaining-requests") == "1");
  CHECK(header(*first, "x-ratelimit-reset-requests") == "1m0s");
  CHECK(header(*first, "x-ratelimit-limit-tokens") == "<absent>");
  REQUIRE(h.chat("two")->status == 200);
  const auto refused = h.chat("three");
  REQUIRE(refused);
  CHECK(refused->status == 429);
  CHECK(header(*refused, "retry-after") == "1");
  CHECK(header(*refused, "retry-after-ms") == "1000");
  CHECK(header(*refused, "x-ratelimit-remaining-requests") == "0");
  const json error = json::parse(refused->body)["error"];
  CHECK(error["type"] == "requests");
  CHECK(error["code"] == "rate_limit_exceeded");
  CHECK(error["message"].get<std::string>().rfind("Rate limit reached", 0) == 0);
  h.clock.advance(1s);
  CHECK(h.chat("four")->status == 200);
}

TEST_CASE("FakeLlm charges prompt tokens plus max_tokens against --tpm", "[fake_llm]") {
  test::LoopFixture loop;
  fake_llm::FakeLlmConfig config;
  config.limits = {.rpm = 0, .tpm = 600};  // 10/s, burst 20
  LimitsHarness h{loop, config};
  // "12345678" is 2 tokens as the fake counts them; max_tokens adds 10.
  const auto ok = h.chat("12345678", 10);
  REQUIRE(ok->status == 200);
  CHECK(header(*ok, "x-ratelimit-remaining-tokens") == "8");
  const auto refused = h.chat("12345678", 10);
  CHECK(refused->status == 429);
  CHECK(json::parse(refused->body)["error"]["type"] == "tokens");
  CHECK(header(*refused, "retry-after-ms") == "400");
}

TEST_CASE("FakeLlm control sets rpm and tpm at run time", "[fake_llm]") {
  test::LoopFixture loop;
  LimitsHarness h{loop};
  for (int i = 0; i < 5; ++i) {
    REQUIRE(h.chat("x")->status == 200);
  }
  const auto set = h.call("/_fake/control", R"({"rpm": 60})");
  REQUIRE(set->status == 200);
  CHECK(json::parse(set->body)["rpm"] == 60);
  CHECK(h.chat("x")->status == 200);
  CHECK(h.chat("x")->status == 200);
  CHECK(h.chat("x")->status == 429);
  SECTION("a bad value changes nothing") {
    CHECK(h.call("/_fake/control", R"({"rpm": -1, "faults": []})")->status == 400);
    CHECK(h.chat("x")->status == 429);
  }
  SECTION("0 lifts the limit") {
    CHECK(h.call("/_fake/control", R"({"rpm": 0})")->status == 200);
    CHECK(h.chat("x")->status == 200);
  }
}

TEST_CASE("FakeLlm answers 503 only inside an outage window", "[fake_llm]") {
  test::LoopFixture loop;
  fake_llm::FakeLlmConfig config;
  config.faults.push_back(*fake_llm::parseFault("outage=10s..40s"));
  LimitsHarness h{loop, config};
  CHECK(h.chat("before")->status == 200);
  h.clock.advance(10s);
  const auto during = h.chat("during");
  CHECK(during->status == 503);
  CHECK(json::parse(during->body)["error"]["type"] == "server_error");
  h.clock.advance(30s);
  CHECK(h.chat("after")->status == 200);
}

TEST_CASE("FakeLlm sends an error code such as insufficient_quota", "[fake_llm]") {
  test::LoopFixture loop;
  fake_llm::FakeLlmConfig config;
  config.faults.push_back(*fake_llm::parseFault("status=429,code=insufficient_quota"));
  config.limits = {.rpm = 600, .tpm = 0};
  LimitsHarness h{loop, config};
  const auto response = h.chat("x");
  REQUIRE(response);
  CHECK(response->status == 429);
  const json error = json::parse(response->body)["error"];
  CHECK(error["code"] == "insufficient_quota");
  CHECK(error["type"] == "insufficient_quota");
  // A fault's answer is not rate-checked: no rate-limit headers.
  CHECK(header(*response, "x-ratelimit-limit-requests") == "<absent>");
}

TEST_CASE("FakeLlm slow-body writes the answer in small pieces", "[fake_llm]") {
  test::LoopFixture loop;
  fake_llm::FakeLlmConfig config;
  config.faults.push_back(*fake_llm::parseFault("slow-body"));
  config.limits = {.rpm = 600, .tpm = 0};
  LimitsHarness h{loop, config};
  const auto response = h.chat("a body in many small writes");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(header(*response, "x-ratelimit-limit-requests") == "600");
  const json body = json::parse(response->body);
  CHECK(body["choices"][0]["message"]["content"] == "fake: a body in many small writes (27 bytes)");
}
