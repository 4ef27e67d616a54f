#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/fake_llm/completion.hpp"
#include "dropd/fake_llm/fake_llm.hpp"
#include "dropd/fake_llm/stream_answer.hpp"
#include "dropd/net/http_client.hpp"
#include "dropd/net/sse_parser.hpp"

#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using namespace dropd;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A FakeLlm with `faults` and an HttpClient that reads streamed bodies
// through on_body into an SseParser.
struct StreamHarness {
  StreamHarness(test::LoopFixture& fixture, std::initializer_list<const char*> faults,
                net::ClientOptions options = {})
      : loop(fixture) {
    // The fake's server shares this process: a client that hangs up while
    // it still writes (max_response_bytes) must not end the test, as
    // dropd-fake-llm's main() makes sure for the binary.
    std::signal(SIGPIPE, SIG_IGN);
    fake_llm::FakeLlmConfig config;
    for (const char* spec : faults) {
      config.faults.push_back(*fake_llm::parseFault(spec));
    }
    auto started = fake_llm::FakeLlm::start(loop.get(), std::move(config), clock);
    REQUIRE(started);
    fake = std::move(*started);
    const auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(fake->port()) + "/");
    auto created = net::HttpClient::create(loop.get(), *url, options);
    REQUIRE(created);
    client = std::move(*created);
  }

  Result<net::HttpResponse> chat(const std::string& user, bool stream, bool include_usage) {
    json body = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", user}}}}};
    if (stream) {
      body["stream"] = true;
    }
    if (include_usage) {
      body["stream_options"] = {{"include_usage", true}};
    }
    net::HttpRequest request;
    request.target = "/v1/chat/completions";
    request.body = body.dump();
    request.on_body = [this](std::string_view bytes) {
      ++pieces;
      for (net::SseEvent& e : sse.feed(bytes)) {
        events.push_back(std::move(e));
      }
    };
    std::optional<Result<net::HttpResponse>> outcome;
    client->send(std::move(request), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    loop.runUntil([&] { return outcome.has_value(); });
    return std::move(*outcome);
  }

  // The content deltas joined.
  [[nodiscard]] std::string content() const {
    std::string out;
    for (const net::SseEvent& e : events) {
      const json chunk = json::parse(e.data, nullptr, false);
      if (chunk.is_object() && chunk.contains("choices") && !chunk["choices"].empty() &&
          chunk["choices"][0]["delta"].contains("content")) {
        out += chunk["choices"][0]["delta"]["content"].get<std::string>();
      }
    }
    return out;
  }

  test::LoopFixture& loop;
  test::ManualClock clock;
  std::unique_ptr<fake_llm::FakeLlm> fake;
  std::unique_ptr<net::HttpClient> client;
  net::SseParser sse;
  std::vector<net::SseEvent> events;
  std::size_t pieces = 0;
};

const std::string kUser = "one two three four five six seven eight nine";

}  // namespace

TEST_CASE("FakeLlm streams a stream request as OpenAI does", "[fake_llm]") {
  test::LoopFixture loop;
  StreamHarness h(loop, {});
  const std::string expected = fake_llm::fakeContent(kUser);
  SECTION("content in several deltas, a usage chunk, then [DONE]") {
    const auto r = h.chat(kUser, true, true);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(*r->header("Content-Type") == "text/event-stream");
    CHECK(r->body.empty());  // on_body took it
    CHECK(h.content() == expected);
    REQUIRE(h.events.size() > 5);
    CHECK(h.events.back().data == "[DONE]");
    const json usage = json::parse(h.events[h.events.size() - 2].data);
    CHECK(usage["choices"].empty());
    CHECK(usage["usage"]["completion_tokens"] == fake_llm::estimateTokens(expected.size()));
  }
  SECTION("no usage chunk unless include_usage") {
    REQUIRE(h.chat(kUser, true, false));
    const json last = json::parse(h.events[h.events.size() - 2].data);
    CHECK(last["choices"][0]["finish_reason"] == "stop");
  }
  SECTION("a plain request still gets one JSON body") {
    const auto r = h.chat(kUser, false, false);
    REQUIRE(r);
    CHECK(h.pieces > 0);  // on_body sees every 2xx body
    CHECK(h.events.empty());
  }
}

TEST_CASE("FakeLlm applies the stream faults", "[fake_llm]") {
  test::LoopFixture loop;
  const std::string expected = fake_llm::fakeContent(kUser);
  SECTION("split: every byte its own write, the same events") {
    StreamHarness h(loop, {"split"});
    REQUIRE(h.chat(kUser, true, true));
    CHECK(h.content() == expected);
    CHECK(h.events.back().data == "[DONE]");
  }
  SECTION("stream-error: an error event, then the end of the body") {
    StreamHarness h(loop, {"stream-error"});
    REQUIRE(h.chat(kUser, true, true));
    REQUIRE_FALSE(h.events.empty());
    CHECK(h.events.back().event == "error");
    CHECK(h.events.back().data.find("server_error") != std::string::npos);
  }
  SECTION("stream-cut: the connection closes inside the body") {
    StreamHarness h(loop, {"stream-cut"});
    const auto r = h.chat(kUser, true, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kSystem);
    CHECK(h.content().size() < expected.size());
  }
  SECTION("stall: the client's read_idle_timeout cuts it") {
    net::ClientOptions options;
    options.read_idle_timeout = 50ms;
    StreamHarness h(loop, {"stall"}, options);
    const auto r = h.chat(kUser, true, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kTimeout);
    CHECK(r.error().context.find("read_idle_timeout") != std::string::npos);
  }
  SECTION("max_response_bytes still caps a streamed body that is not kept") {
    net::ClientOptions options;
    options.max_response_bytes = 300;
    StreamHarness h(loop, {}, options);
    const auto r = h.chat(kUser, true, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kTooLarge);
  }
  SECTION("stream faults leave plain requests alone") {
    StreamHarness h(loop, {"stream-cut"});
    const auto r = h.chat(kUser, false, false);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  SECTION("a status fault answers a stream request with its plain JSON error, kept whole") {
    StreamHarness h(loop, {"status=500"});
    const auto r = h.chat(kUser, true, true);
    REQUIRE(r);
    CHECK(r->status == 500);
    CHECK(h.pieces == 0);
    CHECK(r->body.find("server_error") != std::string::npos);
  }
}

TEST_CASE("streamWrites frames each event as one chunk", "[fake_llm]") {
  const std::vector<std::string> events{"data: a\n\n", "data: b\n\n", "data: [DONE]\n\n"};
  const fake_llm::StreamWrites writes = fake_llm::streamWrites(events, {}, {});
  REQUIRE(writes.pieces.size() == 5);
  CHECK(writes.pieces[0].find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(writes.pieces[1] == "9\r\ndata: a\n\n\r\n");
  CHECK(writes.pieces[4] == "0\r\n\r\n");
  CHECK(writes.after == net::Responder::After::kKeepOpen);
}

TEST_CASE("FakeLlm answers gzip-encoded with the gzip fault", "[fake_llm]") {
  test::LoopFixture loop;
  StreamHarness h(loop, {"gzip"});
  const std::string expected = fake_llm::fakeContent(kUser);
  SECTION("a streamed answer, inflated by the client") {
    const auto r = h.chat(kUser, true, true);
    REQUIRE(r);
    CHECK(*r->header("Content-Encoding") == "gzip");
    CHECK(h.content() == expected);
    CHECK(h.events.back().data == "[DONE]");
  }
  SECTION("a plain answer") {
    const auto r = h.chat(kUser, false, false);
    REQUIRE(r);
    CHECK(*r->header("Content-Encoding") == "gzip");
  }
}
