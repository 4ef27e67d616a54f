#include "dropd/fake_llm/fake_llm.hpp"

#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/net/http_client.hpp"

#include "net/test_certs.hpp"
#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using namespace dropd;
using namespace std::chrono_literals;
using nlohmann::json;
using Outcome = std::optional<Result<net::HttpResponse>>;

namespace {

// A FakeLlm on 127.0.0.1:0 (https when the config has a certificate) and
// an HttpClient pointed at it.
struct Harness {
  explicit Harness(test::LoopFixture& fixture, fake_llm::FakeLlmConfig config = {},
                   net::ClientOptions options = {})
      : loop(fixture) {
    const std::string scheme = config.tls_cert.empty() ? "http" : "https";
    auto started = fake_llm::FakeLlm::start(loop.get(), std::move(config), clock);
    REQUIRE(started);
    fake = std::move(*started);
    const auto url = net::Url::parse(scheme + "://127.0.0.1:" + std::to_string(fake->port()) +
                                     "/v1/chat/completions");
    auto created = net::HttpClient::create(loop.get(), *url, options);
    REQUIRE(created);
    client = std::move(*created);
  }

  Result<net::HttpResponse> call(net::HttpRequest request) {
    Outcome outcome;
    client->send(std::move(request), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    loop.runUntil([&] { return outcome.has_value(); });
    return std::move(*outcome);
  }

  Result<net::HttpResponse> chat(const std::string& user, const std::string& model = "m") {
    const json body = {{"model", model},
                       {"messages",
                        {{{"role", "system"}, {"content", "You summarize."}},
                         {{"role", "user"}, {"content", user}}}}};
    net::HttpRequest request;
    request.target = "/v1/chat/completions";
    request.headers = {{"Content-Type", "application/json"}};
    request.body = body.dump();
    return call(std::move(request));
  }

  test::LoopFixture& loop;
  test::ManualClock clock;
  std::unique_ptr<fake_llm::FakeLlm> fake;
  std::unique_ptr<net::HttpClient> client;
};

fake_llm::FakeLlmConfig withFaults(std::initializer_list<const char*> specs) {
  fake_llm::FakeLlmConfig config;
  for (const char* spec : specs) {
    config.faults.push_back(*fake_llm::parseFault(spec));
  }
  return config;
}

std::string contentOf(const net::HttpResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  REQUIRE_FALSE(body.is_discarded());
  return body["choices"][0]["message"]["content"].get<std::string>();
}

}  // namespace

TEST_CASE("FakeLlm answers a chat.completion derived from the last user message", "[fake_llm]") {
  test::LoopFixture loop;
  Harness h{loop};
  const auto response =
      h.chat("Summarize doc.txt:\n\nHe, imri coquraen of, you to him and more", "llama");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(*response->header("content-type") == "application/json");
  const json body = json::parse(response->body);
  CHECK(body["object"] == "chat.completion");
  CHECK(body["model"] == "llama");
  CHECK(body["choices"][0]["finish_reason"] == "stop");
  CHECK(body["choices"][0]["message"]["role"] == "assistant");
  CHECK(body["choices"][0]["message"]["content"] ==
        "fake: Summarize doc.txt: He, imri coquraen of, you to (61 bytes)");
  CHECK(body["usage"]["total_tokens"] ==
        body["usage"]["prompt_tokens"].get<int>() + body["usage"]["completion_tokens"].get<int>());
  CHECK(body["created"] ==
        std::chrono::duration_cast<std::chrono::seconds>(h.clock.wallNow().time_since_epoch())
            .count());
  CHECK(h.fake->chatRequests() == 1);
}

TEST_CASE("FakeLlm refuses bad JSON and unknown paths", "[fake_llm]") {
  test::LoopFixture loop;
  Harness h{loop};
  net::HttpRequest request;
  SECTION("bad JSON: 400 with an OpenAI error body") {
    request.target = "/v1/chat/completions";
    request.body = "{\"messages\": [";
    const auto response = h.call(request);
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(json::parse(response->body)["error"]["type"] == "invalid_request_error");
  }
  SECTION("unknown path: 404") {
    request.target = "/v1/embeddings";
    const auto response = h.call(request);
    REQUIRE(response);
    CHECK(response->status == 404);
  }
  SECTION("healthz: 200") {
    request.method = "GET";
    request.target = "/healthz";
    const auto response = h.call(request);
    REQUIRE(response);
    CHECK(response->status == 200);
  }
}

TEST_CASE("FakeLlm applies each fault", "[fake_llm]") {
  test::LoopFixture loop;
  SECTION("status with Retry-After") {
    Harness h{loop, withFaults({"status=429,retry-after=2"})};
    const auto response = h.chat("x");
    REQUIRE(response);
    CHECK(response->status == 429);
    CHECK(*response->header("retry-after") == "2");
    CHECK(json::parse(response->body)["error"]["type"] == "rate_limit_error");
  }
  SECTION("reset mid-body") {
    Harness h{loop, withFaults({"reset-mid-body"})};
    const auto response = h.chat("x");
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::kSystem);
  }
  SECTION("hang") {
    Harness h{loop, withFaults({"hang"}), {.request_timeout = 50ms}};
    const auto response = h.chat("x");
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::kTimeout);
  }
  SECTION("malformed JSON") {
    Harness h{loop, withFaults({"malformed-json"})};
    const auto response = h.chat("x");
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(json::parse(response->body, nullptr, false).is_discarded());
  }
  SECTION("chunked framing") {
    Harness h{loop, withFaults({"chunked"})};
    const auto response = h.chat("hello chunks");
    REQUIRE(response);
    CHECK(*response->header("transfer-encoding") == "chunked");
    CHECK(contentOf(*response) == "fake: hello chunks (12 bytes)");
  }
  SECTION("chunk-ext: chunked, two extensions on every chunk") {
    Harness h{loop, withFaults({"chunk-ext"})};
    const auto response = h.chat("hello extensions");
    REQUIRE(response);
    CHECK(*response->header("transfer-encoding") == "chunked");
    CHECK(contentOf(*response) == "fake: hello extensions (16 bytes)");
  }
  SECTION("oversize: a 1 TiB Content-Length, over the client's cap") {
    Harness h{loop, withFaults({"oversize"})};
    const auto response = h.chat("x");
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::kTooLarge);
    CHECK(response.error().message().ends_with("Content-Length 1099511627776"));
  }
  SECTION("delay and latency are timers") {
    fake_llm::FakeLlmConfig config = withFaults({"delay=20ms"});
    config.latency = 20ms;
    Harness h{loop, config};
    // The loop's own clock, which the timers run on: the steady clock can be
    // up to a millisecond ahead of the loop's cached time when they are armed.
    uv_update_time(&loop.get());
    const std::uint64_t start = uv_now(&loop.get());
    const auto response = h.chat("slow");
    REQUIRE(response);
    uv_update_time(&loop.get());
    CHECK(uv_now(&loop.get()) - start >= 40);
  }
  SECTION("match limits a fault to requests that mention NAME") {
    Harness h{loop, withFaults({"status=500,match=POISON"})};
    CHECK(h.chat("a POISON file")->status == 500);
    CHECK(h.chat("a fine file")->status == 200);
  }
}

TEST_CASE("FakeLlm control endpoint switches faults at run time", "[fake_llm]") {
  test::LoopFixture loop;
  Harness h{loop};
  const auto control = [&](const std::string& body) {
    net::HttpRequest request;
    request.target = "/_fake/control";
    request.body = body;
    return h.call(std::move(request));
  };
  CHECK(h.chat("x")->status == 200);
  const auto on = control(R"({"faults": ["status=401"], "latency": "0ms"})");
  REQUIRE(on);
  CHECK(on->status == 200);
  CHECK(json::parse(on->body)["faults"][0] == "status=401");
  CHECK(h.chat("x")->status == 401);
  SECTION("a bad spec changes nothing") {
    CHECK(control(R"({"faults": ["teapot"]})")->status == 400);
    CHECK(h.chat("x")->status == 401);
  }
  SECTION("an empty list turns faults off") {
    CHECK(control(R"({"faults": []})")->status == 200);
    CHECK(h.chat("x")->status == 200);
  }
}

TEST_CASE("FakeLlm writes one request-log line per request", "[fake_llm]") {
  test::LoopFixture loop;
  const std::string path = "/tmp/dropd-fake-llm-test-" + std::to_string(::getpid()) + ".log";
  ::unlink(path.c_str());
  fake_llm::FakeLlmConfig config;
  config.request_log = path;
  Harness h{loop, config};
  REQUIRE(h.chat("alpha beta")->status == 200);
  REQUIRE(h.chat("gamma")->status == 200);
  std::ifstream in{path};
  std::string line;
  std::vector<json> lines;
  while (std::getline(in, line)) {
    lines.push_back(json::parse(line));
  }
  ::unlink(path.c_str());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["status"] == 200);
  CHECK(lines[0]["bytes"] == 10);
  CHECK(lines[0]["first_words"] == "alpha beta");
  CHECK(lines[1]["sha256"] == fake_llm::sha256Hex("gamma"));
  CHECK(lines[0]["time"] == "2026-11-24T00:00:00.000Z");
}

TEST_CASE("FakeLlm serves https with a certificate and key", "[fake_llm][tls]") {
  test::LoopFixture loop;
  const auto& certs = test::testCerts();
  fake_llm::FakeLlmConfig config;
  config.tls_cert = certs.cert;
  config.tls_key = certs.key;
  net::ClientOptions options;
  options.tls.ca_file = certs.ca;
  Harness h{loop, std::move(config), options};
  for (int i = 0; i < 3; ++i) {
    auto response = h.chat("please summarise this short note");
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(contentOf(*response) == "fake: please summarise this short note (32 bytes)");
  }
  CHECK(h.fake->chatRequests() == 3);
  CHECK(h.client->connectionsOpened() == 1);
  net::HttpRequest stats;
  stats.method = "GET";
  stats.target = "/_fake/stats";
  const auto answer = h.call(stats);
  REQUIRE(answer);
  CHECK(answer->status == 200);
  // The same kept-alive connection: one accepted, so one TLS handshake.
  CHECK(json::parse(answer->body) == json{{"connections", 1}, {"chat_requests", 3}, {"tls", true}});

  SECTION("a missing certificate fails start() and names the file") {
    fake_llm::FakeLlmConfig broken;
    broken.tls_cert = "/nonexistent/cert.pem";
    broken.tls_key = certs.key;
    auto started = fake_llm::FakeLlm::start(loop.get(), std::move(broken), h.clock);
    REQUIRE_FALSE(started);
    CHECK(started.error().code == ErrorCode::kInvalid);
    CHECK(started.error().message().find("/nonexistent/cert.pem") != std::string::npos);
  }
}
