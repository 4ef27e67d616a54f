#include "dropd/llm/http_llm_client.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/uv/tcp_listener.hpp"

#include "net/test_server.hpp"
#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using dropd::llm::Attempt;
using dropd::llm::FailureClass;
using dropd::llm::HttpLlmClient;
using dropd::throttle::Outcome;
using namespace std::chrono_literals;

namespace {

dropd::config::Endpoint endpointAt(const std::string& url) {
  dropd::config::Endpoint e;
  e.name = "test";
  e.url = *dropd::config::parseHttpUrl(url);
  return e;
}

struct Fixture {
  dropd::test::LoopFixture loop;
  dropd::test::ManualClock clock;
  dropd::test::TestServer server{loop.get()};
  std::optional<Attempt> attempt;

  std::unique_ptr<HttpLlmClient> client(const dropd::config::Endpoint& e) {
    auto created = HttpLlmClient::create(loop.get(), e, clock);
    REQUIRE(created);
    return std::move(*created);
  }
  std::string url() const {
    const dropd::net::Url u = server.url();
    return "http://" + u.host + ":" + std::to_string(u.port) + "/v1/chat/completions";
  }
  Attempt sendAndWait(HttpLlmClient& c, std::string body = R"({"model":"m"})") {
    c.send(std::make_shared<const std::string>(std::move(body)),
           [this](Attempt a) { attempt = std::move(a); });
    loop.runUntil([&] { return attempt.has_value(); });
    return std::move(*attempt);
  }
};

constexpr const char* kCompletion =
    R"({"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":7,"completion_tokens":3}})";

}  // namespace

TEST_CASE("HttpLlmClient posts the body with the endpoint's headers", "[llm]") {
  Fixture f;
  auto e = endpointAt(f.url());
  e.api_key.emplace("sk-test", "test");
  e.headers = {{"OpenAI-Organization", "org-1", {}}, {"X-Extra", "yes", {}}};
  f.server.answer = [&](const dropd::net::ServerRequest&, dropd::net::Responder& responder) {
    f.clock.advance(250ms);  // the answer takes this long on the client's clock
    responder.send(200, {{"Content-Type", "application/json"}}, kCompletion);
  };
  auto c = f.client(e);
  const Attempt a = f.sendAndWait(*c, R"({"model":"m","messages":[]})");

  REQUIRE(f.server.received.size() == 1);
  const auto& req = f.server.received.front().request;
  CHECK(req.method == "POST");
  CHECK(req.target == "/v1/chat/completions");
  CHECK(req.body == R"({"model":"m","messages":[]})");
  REQUIRE(req.header("Content-Type") != nullptr);
  CHECK(*req.header("Content-Type") == "application/json");
  CHECK(*req.header("Accept") == "application/json");
  CHECK(req.header("User-Agent")->rfind("dropd/", 0) == 0);
  REQUIRE(req.header("Authorization") != nullptr);
  CHECK(*req.header("Authorization") == "Bearer sk-test");
  CHECK(*req.header("OpenAI-Organization") == "org-1");
  CHECK(*req.header("X-Extra") == "yes");

  REQUIRE(a.result.has_value());
  CHECK(a.result->content == "hi");
  CHECK(a.result->usage.prompt_tokens == 7);
  CHECK(a.outcome == Outcome::kSuccess);
  CHECK(a.latency == 250ms);
  CHECK_FALSE(a.cancelled);
  CHECK_FALSE(a.retry_after.has_value());
  c->close();
}

TEST_CASE("HttpLlmClient's headers replace its defaults of the same name", "[llm]") {
  Fixture f;
  auto e = endpointAt(f.url());
  const auto body = std::make_shared<const std::string>("{}");
  const auto count = [](const dropd::net::HttpRequest& req, std::string_view name) {
    return std::count_if(req.headers.begin(), req.headers.end(),
                         [&](const auto& h) { return dropd::net::equalsIgnoreCase(h.name, name); });
  };
  SECTION("User-Agent and Accept, in any case, are sent once, as configured") {
    e.headers = {{"user-agent", "my-app/2", {}},
                 {"ACCEPT", "application/json; q=1", {}},
                 {"X-Org", {}, dropd::config::Secret("org-secret", "env ORG")}};
    auto c = f.client(e);
    const auto req = c->requestFor(body);
    CHECK(count(req, "User-Agent") == 1);
    CHECK(count(req, "Accept") == 1);
    CHECK(*dropd::net::findHeader(req.headers, "User-Agent") == "my-app/2");
    CHECK(*dropd::net::findHeader(req.headers, "Accept") == "application/json; q=1");
    CHECK(*dropd::net::findHeader(req.headers, "X-Org") == "org-secret");
    CHECK(*dropd::net::findHeader(req.headers, "Content-Type") == "application/json");
    c->close();
  }
  SECTION("auth api-key sends Azure's api-key header, no Authorization") {
    e.api_key.emplace("az-key", "test");
    e.auth = dropd::config::Auth::kApiKey;
    auto c = f.client(e);
    const auto req = c->requestFor(body);
    CHECK(count(req, "Authorization") == 0);
    REQUIRE(dropd::net::findHeader(req.headers, "api-key") != nullptr);
    CHECK(*dropd::net::findHeader(req.headers, "api-key") == "az-key");
    c->close();
  }
  SECTION("auth none sends no key; an Authorization header of its own goes as it is") {
    e.auth = dropd::config::Auth::kNone;
    e.headers = {{"Authorization", {}, dropd::config::Secret("Basic dTpw", "file /k")}};
    auto c = f.client(e);
    const auto req = c->requestFor(body);
    CHECK(count(req, "Authorization") == 1);
    CHECK(*dropd::net::findHeader(req.headers, "Authorization") == "Basic dTpw");
    CHECK(count(req, "api-key") == 0);
    c->close();
  }
}

TEST_CASE("HttpLlmClient sends no Authorization without an api_key", "[llm]") {
  Fixture f;
  f.server.answer = [](const dropd::net::ServerRequest&, dropd::net::Responder& responder) {
    responder.send(200, {}, kCompletion);
  };
  auto c = f.client(endpointAt(f.url()));
  (void)f.sendAndWait(*c);
  CHECK(f.server.received.front().request.header("Authorization") == nullptr);
  c->close();
}

TEST_CASE("HttpLlmClient reads the server's hints from any answer", "[llm]") {
  Fixture f;
  std::vector<dropd::net::Header> headers;
  int status = 429;
  std::string body = R"({"error":{"code":"rate_limit_exceeded"}})";
  f.server.answer = [&](const dropd::net::ServerRequest&, dropd::net::Responder& responder) {
    responder.send(status, headers, body);
  };
  auto c = f.client(endpointAt(f.url()));

  SECTION("a 429 with retry-after-ms and x-ratelimit-*") {
    headers = {{"retry-after-ms", "1500"},
               {"Retry-After", "9"},
               {"x-ratelimit-remaining-requests", "0"},
               {"x-ratelimit-reset-requests", "6s"},
               {"x-ratelimit-remaining-tokens", "1234"}};
    const Attempt a = f.sendAndWait(*c);
    REQUIRE_FALSE(a.result.has_value());
    CHECK(a.result.error().cls == FailureClass::kRetry);
    CHECK(a.result.error().http_status == 429);
    CHECK(a.outcome == Outcome::kRateLimited);
    CHECK(a.retry_after == 1500ms);  // retry-after-ms wins
    CHECK(a.rate_limits.remaining_requests == 0u);
    CHECK(a.rate_limits.reset_requests == 6s);
    CHECK(a.rate_limits.remaining_tokens == 1234u);
    CHECK_FALSE(a.rate_limits.reset_tokens.has_value());
  }
  SECTION("a Retry-After date, against the client's wall clock") {
    status = 503;
    body = "busy";
    headers = {{"Retry-After", "Tue, 24 Nov 2026 00:00:30 GMT"}};
    const Attempt a = f.sendAndWait(*c);
    CHECK(a.outcome == Outcome::kOverloaded);
    CHECK(a.retry_after == 30s);
  }
  SECTION("a success's hints too") {
    status = 200;
    body = kCompletion;
    headers = {{"Retry-After", "2"}, {"x-ratelimit-remaining-tokens", "10"}};
    const Attempt a = f.sendAndWait(*c);
    CHECK(a.result.has_value());
    CHECK(a.retry_after == 2s);
    CHECK(a.rate_limits.remaining_tokens == 10u);
  }
  SECTION("a 401 pauses the endpoint") {
    status = 401;
    body = R"({"error":{"message":"bad key"}})";
    const Attempt a = f.sendAndWait(*c);
    REQUIRE_FALSE(a.result.has_value());
    CHECK(a.result.error().cls == FailureClass::kPauseEndpoint);
    CHECK(a.result.error().message.rfind("HTTP 401", 0) == 0);
    CHECK(a.outcome == Outcome::kRejected);
  }
  c->close();
}

TEST_CASE("HttpLlmClient sorts a refused connection as the network's", "[llm]") {
  dropd::test::LoopFixture loop;
  dropd::test::ManualClock clock;
  int port = 0;
  {
    auto listener = dropd::uv::TcpListener::listen(loop.get(), "127.0.0.1", 0, [](auto) {});
    REQUIRE(listener);
    port = listener->port();
  }
  auto created = HttpLlmClient::create(
      loop.get(), endpointAt("http://127.0.0.1:" + std::to_string(port) + "/v1"), clock);
  REQUIRE(created);
  std::optional<Attempt> attempt;
  (*created)->send(std::make_shared<const std::string>("{}"),
                   [&](Attempt a) { attempt = std::move(a); });
  loop.runUntil([&] { return attempt.has_value(); });
  REQUIRE_FALSE(attempt->result.has_value());
  CHECK(toString(attempt->result.error().kind) == "network");
  CHECK(attempt->result.error().cls == FailureClass::kRetry);
  CHECK(attempt->outcome == Outcome::kNetworkError);
  CHECK_FALSE(attempt->cancelled);
  CHECK_FALSE(attempt->retry_after.has_value());
}

TEST_CASE("HttpLlmClient::close cancels a request still out", "[llm]") {
  Fixture f;  // the server never answers
  auto c = f.client(endpointAt(f.url()));
  c->send(std::make_shared<const std::string>("{}"), [&](Attempt a) { f.attempt = std::move(a); });
  f.loop.runUntil([&] { return f.server.requests == 1; });
  c->close();
  REQUIRE(f.attempt.has_value());
  CHECK(f.attempt->cancelled);
}

TEST_CASE("HttpLlmClient with stream: true assembles the streamed answer", "[llm]") {
  Fixture f;
  auto e = endpointAt(f.url());
  e.stream = true;
  const std::string events =
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"hel\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  SECTION("content, usage and the time to the first content delta") {
    f.server.answer = [&](const dropd::net::ServerRequest&, dropd::net::Responder& responder) {
      f.clock.advance(40ms);  // the first bytes come 40 ms after the request, all at once
      responder.sendChunked(200, {{"Content-Type", "text/event-stream"}},
                            {events.substr(0, 60), events.substr(60)});
    };
    auto c = f.client(e);
    const Attempt a = f.sendAndWait(*c);
    CHECK(*f.server.received.front().request.header("Accept") == "text/event-stream");
    CHECK(*f.server.received.front().request.header("Accept-Encoding") == "gzip");
    REQUIRE(a.result.has_value());
    CHECK(a.result->content == "hello");
    CHECK(a.result->finish_reason == "stop");
    CHECK(a.result->usage.completion_tokens == 2);
    CHECK_FALSE(a.result->usage_estimated);
    CHECK(a.result->ttft == 40ms);
    c->close();
  }
  SECTION("an error status is read as a plain JSON error") {
    f.server.answer = [&](const dropd::net::ServerRequest&, dropd::net::Responder& responder) {
      responder.send(503, {{"Content-Type", "application/json"}},
                     R"({"error":{"message":"busy","type":"server_error"}})");
    };
    auto c = f.client(e);
    const Attempt a = f.sendAndWait(*c);
    REQUIRE_FALSE(a.result.has_value());
    CHECK(a.result.error().http_status == 503);
    CHECK(a.result.error().message.find("busy") != std::string::npos);
    c->close();
  }
  SECTION("a stream that stops sending is cut at timeouts.idle and retried") {
    e.timeouts.idle = 30ms;
    f.server.answer = [&](const dropd::net::ServerRequest&, dropd::net::Responder& responder) {
      responder.sendRaw({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                         std::string("10\r\ndata: {\"choic")},
                        dropd::net::Responder::After::kKeepOpen);
    };
    auto c = f.client(e);
    const Attempt a = f.sendAndWait(*c);
    REQUIRE_FALSE(a.result.has_value());
    CHECK(a.result.error().cls == FailureClass::kRetry);
    CHECK(toString(a.result.error().kind) == "timeout");
    c->close();
  }
}
