#include "dropd/pipeline/dispatcher.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dropd/llm/response.hpp"

#include "pipeline/scripted_client.hpp"
#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"

using dropd::pipeline::Dispatcher;
using dropd::pipeline::Job;
using dropd::test::failed;
using dropd::test::noAnswer;
using dropd::test::ScriptedClient;
using dropd::test::succeeded;
using namespace std::chrono_literals;

namespace {

dropd::config::Endpoint endpoint() {
  dropd::config::Endpoint e;
  e.name = "test";
  e.limits.max_in_flight = 8;
  e.retry = {.max_attempts = 3, .initial_backoff = 1ms, .max_backoff = 2ms};
  return e;
}

// A Dispatcher over a ScriptedClient. Each job's body is its name, which
// is how the test answers it; finished jobs land in `done`.
struct Fixture {
  explicit Fixture(const dropd::config::Endpoint& e = endpoint()) {
    auto scripted = std::make_unique<ScriptedClient>();
    client = scripted.get();
    dispatcher = Dispatcher::create(loop.get(), e, clock, log, std::move(scripted));
  }

  void submit(const std::string& name) {
    auto job = std::make_unique<Job>();
    job->rel = name;
    job->body = std::make_shared<const std::string>(name);
    job->moveTo(dropd::pipeline::JobState::kQueued, "test");   // as the Pipeline hands it over:
    job->moveTo(dropd::pipeline::JobState::kReading, "test");  // read, with its body built
    dispatcher->submit(std::move(job), [this](std::unique_ptr<Job> finished) {
      done.push_back(std::move(finished));
    });
  }

  // Runs the loop until `name` has been sent again (its backoff is over).
  void waitForSend(std::size_t pending = 1) {
    loop.runUntil([&] { return client->pending() >= pending; });
  }

  // Runs the loop `n` times round (each waits for a timer) and says
  // whether nothing was sent meanwhile: how a test sees "still waiting"
  // without sleeping.
  [[nodiscard]] bool sendsNothingFor(int n) {
    const std::size_t before = client->sends();
    int rounds = 0;
    loop.runUntil([&] { return ++rounds > n || client->sends() != before; });
    return client->sends() == before;
  }

  dropd::test::LoopFixture loop;
  dropd::test::ManualClock clock;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::vector<std::unique_ptr<Job>> done;
  ScriptedClient* client = nullptr;  // owned by the dispatcher
  std::unique_ptr<Dispatcher> dispatcher;
};

}  // namespace

TEST_CASE("Dispatcher retries a retryable failure after a backoff, then succeeds", "[pipeline]") {
  Fixture f;
  f.submit("a");
  REQUIRE(f.client->pending() == 1);
  CHECK(f.dispatcher->inFlight() == 1);

  SECTION("an HTTP 503") { f.client->answer("a", failed(503)); }
  SECTION("a timeout") { f.client->answer("a", noAnswer(dropd::ErrorCode::kTimeout)); }
  SECTION("a garbled 2xx") { f.client->answer("a", failed(200)); }
  CHECK(f.done.empty());
  CHECK(f.client->pending() == 0);  // waiting out its backoff
  CHECK(f.dispatcher->held() == 1);
  f.waitForSend();
  CHECK(f.client->sends() == 2);
  f.client->answer("a", succeeded(42ms));
  REQUIRE(f.done.size() == 1);
  const Job& job = *f.done[0];
  CHECK(job.attempts == 2);
  REQUIRE(job.completion.has_value());
  CHECK(job.completion->content == "summary");
  CHECK(job.latency == 42ms);
  CHECK_FALSE(job.failure.has_value());
  CHECK(job.body == nullptr);  // dropped before the record is written
  CHECK(f.dispatcher->held() == 0);
}

TEST_CASE("Dispatcher fails a file at once on its own 4xx", "[pipeline]") {
  Fixture f;
  f.submit("a");
  SECTION("400") { f.client->answer("a", failed(400)); }
  SECTION("404") { f.client->answer("a", failed(404)); }
  SECTION("context length") { f.client->answer("a", failed(400, "context_length_exceeded")); }
  SECTION("an answer over max_response_bytes") {
    f.client->answer("a", noAnswer(dropd::ErrorCode::kTooLarge));
  }
  REQUIRE(f.done.size() == 1);
  const Job& job = *f.done[0];
  CHECK(job.attempts == 1);
  REQUIRE(job.failure.has_value());
  CHECK(job.failure->cls == dropd::llm::FailureClass::kFailFile);
  CHECK_FALSE(job.completion.has_value());
  CHECK(f.client->sends() == 1);
  CHECK(f.dispatcher->held() == 0);
}

TEST_CASE("Dispatcher after max_attempts fails the file only if others succeeded meanwhile",
          "[pipeline]") {
  Fixture f;  // max_attempts 3
  f.submit("a");

  SECTION("another file succeeded since the first attempt: the file fails") {
    f.submit("b");
    f.clock.advance(1ms);
    f.client->answer("b", succeeded());
    REQUIRE(f.done.size() == 1);
    for (int attempt = 1; attempt < 3; ++attempt) {
      f.client->answer("a", failed(500));
      f.waitForSend();
    }
    f.client->answer("a", failed(502));
    REQUIRE(f.done.size() == 2);
    const Job& job = *f.done[1];
    CHECK(job.rel == "a");
    CHECK(job.attempts == 3);
    REQUIRE(job.failure.has_value());
    CHECK(job.failure->http_status == 502);
    CHECK(toString(job.failure->kind) == "http");
    CHECK_FALSE(f.dispatcher->down());
  }
  SECTION("nothing succeeded: the endpoint is down and the file keeps waiting") {
    for (int attempt = 1; attempt < 3; ++attempt) {
      f.client->answer("a", noAnswer(dropd::ErrorCode::kSystem));
      f.waitForSend();
    }
    CHECK_FALSE(f.dispatcher->down());
    f.client->answer("a", noAnswer(dropd::ErrorCode::kSystem));
    CHECK(f.dispatcher->down());
    CHECK(f.done.empty());
    f.waitForSend();  // retried past max_attempts
    f.client->answer("a", failed(503));
    CHECK(f.done.empty());
    f.waitForSend();
    f.client->answer("a", succeeded());
    CHECK_FALSE(f.dispatcher->down());
    REQUIRE(f.done.size() == 1);
    CHECK(f.done[0]->attempts == 5);
    CHECK(f.done[0]->completion.has_value());
  }
}

// A 200 answer as HttpLlmClient reads it (llm::readAnswer).
dropd::llm::Attempt answered(const std::string& message) {
  dropd::llm::Answer read =
      dropd::llm::readAnswer(200, R"({"choices":[{"message":)" + message + "}]}");
  dropd::llm::Attempt attempt;
  attempt.result = std::move(read.result);
  attempt.outcome = read.outcome;
  return attempt;
}

TEST_CASE("Dispatcher fails a refusal at once and an empty answer after max_attempts",
          "[pipeline]") {
  Fixture f;  // max_attempts 3; nothing else succeeds meanwhile
  f.submit("a");
  SECTION("a refusal is the same for the same prompt: no retry") {
    f.client->answer("a", answered(R"({"content":null,"refusal":"No."})"));
    REQUIRE(f.done.size() == 1);
    CHECK(f.done[0]->attempts == 1);
    REQUIRE(f.done[0]->failure.has_value());
    CHECK(toString(f.done[0]->failure->kind) == "refusal");
    CHECK(f.done[0]->failure->message == "the model refused: No.");
  }
  SECTION("an empty answer is retried, then fails though the endpoint never succeeded") {
    for (int attempt = 1; attempt < 3; ++attempt) {
      f.client->answer("a", answered(R"({"content":""})"));
      f.waitForSend();
    }
    f.client->answer("a", answered(R"({"content":null})"));
    REQUIRE(f.done.size() == 1);
    CHECK(f.done[0]->attempts == 3);
    REQUIRE(f.done[0]->failure.has_value());
    CHECK(toString(f.done[0]->failure->kind) == "empty_answer");
    CHECK_FALSE(f.dispatcher->down());  // the server answered every time
  }
}

TEST_CASE("Dispatcher pauses the endpoint on 401 without counting the attempt", "[pipeline]") {
  Fixture f;  // max_backoff 2 ms: one pause
  f.submit("a");
  const auto answered_at = f.clock.now();
  f.client->answer("a", failed(401));
  REQUIRE(f.dispatcher->pausedUntil().has_value());
  CHECK(*f.dispatcher->pausedUntil() == answered_at + 2ms);
  CHECK(f.dispatcher->lastError() == "HTTP 401");
  CHECK(f.done.empty());
  f.submit("b");
  CHECK(f.client->pending() == 0);  // both wait for the pause
  CHECK(f.dispatcher->held() == 2);
  CHECK(f.sendsNothingFor(5));

  f.clock.advance(2ms);
  f.waitForSend();
  REQUIRE(f.client->pending() == 1);   // one probe, alone: "b" waits for its answer
  f.client->answer("a", succeeded());  // the probe: "a" queued first
  CHECK_FALSE(f.dispatcher->pausedUntil().has_value());
  REQUIRE(f.done.size() == 1);
  CHECK(f.done[0]->rel == "a");
  CHECK(f.done[0]->attempts == 1);  // the 401 did not count
  f.waitForSend();
  f.client->answer("b", succeeded());
  CHECK(f.done.size() == 2);
}

TEST_CASE("Dispatcher stops sending while the breaker is open and resumes on success",
          "[pipeline]") {
  auto e = endpoint();
  e.retry.max_attempts = 10;
  Fixture f(e);
  f.submit("a");
  for (int failures = 1; failures < 5; ++failures) {
    f.client->answer("a", failed(500));
    f.waitForSend();
  }
  f.client->answer("a", failed(500));  // the fifth in a row opens the breaker
  CHECK(f.sendsNothingFor(6));
  f.clock.advance(1ms);  // the breaker's first probe, after initial_backoff
  f.waitForSend();
  f.submit("b");
  CHECK(f.client->pending() == 1);  // the probe goes alone
  f.client->answer("a", succeeded());
  CHECK(f.client->pending() == 1);  // closed: "b" went at once
  f.client->answer("b", succeeded());
  CHECK(f.done.size() == 2);
  CHECK(f.done[0]->attempts == 6);
}

TEST_CASE("Dispatcher with limits.adaptive follows the AIMD limit", "[pipeline]") {
  auto e = endpoint();
  e.limits.adaptive = true;
  Fixture f(e);
  for (int i = 0; i < 200; ++i) {
    f.submit("job" + std::to_string(i));
  }
  CHECK(f.dispatcher->concurrencyLimit() == 1);
  CHECK(f.client->pending() == 1);
  // Steady 100 ms answers with the limit used: it climbs to max_in_flight.
  for (int round = 0; round < 20; ++round) {
    f.clock.advance(100ms);
    f.client->answerAll(succeeded(100ms));
  }
  REQUIRE(f.dispatcher->concurrencyLimit() == 8);
  CHECK(f.client->pending() == 8);
  f.clock.advance(100ms);
  const std::size_t before = f.done.size();
  f.client->answer(f.client->oldestBody(), failed(429));
  CHECK(f.dispatcher->concurrencyLimit() == 7);  // floor(8 * 0.9)
  f.clock.advance(100ms);
  f.client->answer(f.client->oldestBody(), failed(503));
  CHECK(f.dispatcher->concurrencyLimit() == 6);  // floor(7 * 0.9)
  CHECK(f.done.size() == before);                // both are retried, not failed
}

TEST_CASE("Dispatcher waits out a Retry-After longer than max_backoff", "[pipeline]") {
  Fixture f;  // max_backoff 2 ms
  f.submit("a");
  auto answer = failed(429);
  answer.retry_after = 20ms;
  const auto started = std::chrono::steady_clock::now();
  f.client->answer("a", answer);

  SECTION("the job's own backoff is the Retry-After") {
    f.clock.advance(20ms);  // the gate would let it go now
    f.waitForSend();
    CHECK(std::chrono::steady_clock::now() - started >= 15ms);
  }
  SECTION("the gate holds every send until it has passed on the clock") {
    f.submit("b");
    CHECK(f.client->pending() == 0);
    CHECK(f.sendsNothingFor(3));
    f.clock.advance(20ms);
    f.waitForSend(2);
    f.client->answer("b", succeeded());
  }
  f.client->answer("a", succeeded());
  REQUIRE_FALSE(f.done.empty());
  CHECK(f.done.back()->attempts == 2);
}

TEST_CASE("Dispatcher waits for the RPM bucket and the gate's timer wakes it", "[pipeline]") {
  auto e = endpoint();
  e.limits.requests_per_minute = 6000;  // 100 a second: a burst of 100, then one per 10 ms
  e.limits.max_in_flight = 200;
  Fixture f(e);
  for (int i = 0; i < 101; ++i) {
    f.submit("job" + std::to_string(i));
  }
  CHECK(f.client->pending() == 100);
  CHECK(f.sendsNothingFor(3));
  f.clock.advance(10ms);
  f.waitForSend(101);  // only the gate's timer can send it: nothing was answered
  CHECK(f.client->sends() == 101);
  CHECK(f.dispatcher->throttleWaitTotal() == 10ms);
  f.client->answerAll(succeeded());
  CHECK(f.done.size() == 101);
}

TEST_CASE("Dispatcher::close drops in-flight and waiting jobs", "[pipeline]") {
  auto e = endpoint();
  e.limits.max_in_flight = 1;
  Fixture f(e);
  f.submit("a");
  f.submit("b");
  REQUIRE(f.client->pending() == 1);
  f.dispatcher->close();
  CHECK(f.dispatcher->inFlight() == 0);
  CHECK(f.dispatcher->held() == 0);
  CHECK(f.done.empty());
}

TEST_CASE("Dispatcher::stopSending returns the claims of the jobs it drops", "[pipeline]") {
  auto e = endpoint();
  e.limits.max_in_flight = 1;
  Fixture f(e);
  f.submit("a");
  f.submit("b");  // waits, never claimed (a SQLite ledger)
  REQUIRE(f.client->pending() == 1);
  // A fleet's job (docs/fleet.md): claimed before it was read.
  auto job = std::make_unique<Job>();
  job->rel = "claimed.txt";
  job->pipeline_name = "p";
  job->claimed = true;
  job->claimed_as = {1, 2, 3, {}};
  job->body = std::make_shared<const std::string>("claimed.txt");
  job->moveTo(dropd::pipeline::JobState::kQueued, "test");
  job->moveTo(dropd::pipeline::JobState::kReading, "test");
  f.dispatcher->submit(std::move(job), [](std::unique_ptr<Job>) {});
  f.dispatcher->shareLimitsWith(3);  // no limits set: nothing changes, nothing more is sent
  CHECK(f.client->pending() == 1);

  const auto dropped = f.dispatcher->stopSending();
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].pipeline == "p");
  CHECK(dropped[0].rel == "claimed.txt");
  CHECK(dropped[0].identity.ino == 2);
  CHECK(f.dispatcher->inFlight() == 1);  // a still finishes
  f.client->answerAll(succeeded());
  CHECK(f.done.size() == 1);
}
