// ExtractorPool against real processes: tests/e2e/fake_extract.py, a
// stand-in for dropd-extract that misbehaves on request (see its header).
#include "dropd/pipeline/extractor_pool.hpp"

#include <signal.h>

#include <optional>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

#include "dropd/uv/timer.hpp"

#include "support/loop_fixture.hpp"
#include "support/temp_dir.hpp"

namespace dropd::pipeline {
namespace {

using namespace std::chrono_literals;
using Kind = ExtractOutcome::Kind;

const std::string kStandIn = std::string(DROPD_SOURCE_DIR) + "/tests/e2e/fake_extract.py";

struct PoolFixture {
  test::LoopFixture loop;
  test::TempDir dir;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::optional<ExtractorPool> pool;

  explicit PoolFixture(std::chrono::milliseconds timeout = 10s, std::size_t helpers = 1,
                       std::string program = kStandIn) {
    pool.emplace(loop.get(), log,
                 ExtractorPoolConfig{std::move(program), helpers, timeout, 1ull << 30, 30, "p"});
  }
  ~PoolFixture() {
    pool->shutdown(2s);
    loop.runUntil([&] { return pool->closed(); });
    pool.reset();
  }

  // Submits the file `name` (written with `content`) and runs until it is done.
  ExtractOutcome extract(const std::string& name, const std::string& content = "hello") {
    std::optional<ExtractOutcome> got;
    pool->submit(dir.write(name, content).string(), {},
                 [&](ExtractOutcome outcome) { got = std::move(outcome); });
    loop.runUntil([&] { return got.has_value(); }, 20s);
    return got.value_or(ExtractOutcome{});
  }
};

const extract::Document& documentOf(const ExtractOutcome& outcome) {
  REQUIRE(outcome.kind == Kind::kReply);
  REQUIRE(outcome.reply.has_value());
  REQUIRE(std::holds_alternative<extract::Document>(outcome.reply->answer));
  return std::get<extract::Document>(outcome.reply->answer);
}

TEST_CASE("ExtractorPool extracts files with one helper reused", "[pipeline]") {
  PoolFixture f;
  CHECK(f.pool->closed());  // nothing started before the first file
  CHECK(documentOf(f.extract("a.bin", "one")).text == "EXTRACTED: one");
  const std::vector<int> first = f.pool->pidsForTest();
  CHECK(documentOf(f.extract("b.bin", "two")).text == "EXTRACTED: two");
  CHECK(f.pool->pidsForTest() == first);
  REQUIRE(first.size() == 1);
}

TEST_CASE("ExtractorPool replaces a helper that crashes on a file", "[pipeline]") {
  PoolFixture f;
  SECTION("killed by a signal") {
    const ExtractOutcome crashed = f.extract("crash.bin");
    CHECK(crashed.kind == Kind::kCrashed);
    CHECK(crashed.reason == "killed by SIGSEGV");
  }
  SECTION("exits with a code") {
    const ExtractOutcome crashed = f.extract("exit3.bin");
    CHECK(crashed.kind == Kind::kCrashed);
    CHECK(crashed.reason == "exited with code 3");
  }
  SECTION("runs out of CPU time: a limit, like the timeout") {
    const ExtractOutcome hog = f.extract("cpuhog.bin");
    CHECK(hog.kind == Kind::kTimedOut);
    CHECK(hog.reason == "exceeded its CPU time limit (SIGXCPU)");
  }
  SECTION("answers garbage") {
    const ExtractOutcome crashed = f.extract("garbage.bin");
    CHECK(crashed.kind == Kind::kCrashed);
    CHECK_THAT(crashed.reason, Catch::StartsWith("sent a bad frame"));
  }
  SECTION("closes its stdout") {
    const ExtractOutcome crashed = f.extract("closeout.bin");
    CHECK(crashed.kind == Kind::kCrashed);
    CHECK(crashed.reason == "closed its stdout");
  }
  // The next file gets a new helper and works.
  CHECK(documentOf(f.extract("next.bin", "fine")).text == "EXTRACTED: fine");
}

TEST_CASE("ExtractorPool times a hanging helper out and replaces it", "[pipeline]") {
  PoolFixture f(1500ms);
  const ExtractOutcome hung = f.extract("hang.bin");
  CHECK(hung.kind == Kind::kTimedOut);
  CHECK(hung.reason == "timed out after 1500ms");
  CHECK(documentOf(f.extract("next.bin", "after")).text == "EXTRACTED: after");
}

TEST_CASE("ExtractorPool runs at most `helpers` files at once, the rest wait", "[pipeline]") {
  PoolFixture f(10s, 2);
  std::vector<ExtractOutcome> got;
  for (const char* name : {"w1-wait.bin", "w2-wait.bin", "w3.bin"}) {
    f.pool->submit(f.dir.write(name, name).string(), {},
                   [&](ExtractOutcome o) { got.push_back(std::move(o)); });
  }
  // Both helpers hold a waiting file; the third waits in the queue. The
  // marks are files another process writes: a timer wakes the loop to look.
  {
    auto poll = uv::Timer::create(f.loop.get());
    REQUIRE(poll.has_value());
    REQUIRE(poll->startRepeat(10ms, 10ms, [] {}).has_value());
    f.loop.runUntil([&] {
      return std::filesystem::exists(f.dir.path() / "w1-wait.bin.pid") &&
             std::filesystem::exists(f.dir.path() / "w2-wait.bin.pid");
    });
  }
  CHECK(f.pool->busy() == 2);
  CHECK(f.pool->waiting() == 1);
  CHECK(got.empty());
  SECTION("a helper killed from outside fails its file; the others go on") {
    const int pid = std::stoi(test::TempDir::read(f.dir.path() / "w1-wait.bin.pid"));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    f.dir.write("w2-wait.bin.go", "");
    f.loop.runUntil([&] { return got.size() == 3; });
    std::vector<std::string> reasons;
    for (const auto& o : got) {
      reasons.push_back(o.kind == Kind::kReply ? "reply" : o.reason);
    }
    std::sort(reasons.begin(), reasons.end());
    CHECK(reasons == std::vector<std::string>{"killed by SIGKILL", "reply", "reply"});
  }
  SECTION("shutdown hands every file back as stopped and reaps the helpers") {
    f.pool->shutdown(200ms);  // the waiting helpers never read their EOF: killed after 200ms
    REQUIRE(got.size() == 3);
    for (const auto& o : got) {
      CHECK(o.kind == Kind::kStopped);
    }
    f.loop.runUntil([&] { return f.pool->closed(); });
  }
}

TEST_CASE("ExtractorPool reports a program that cannot start", "[pipeline]") {
  PoolFixture f(10s, 1, "/nonexistent/dropd-extract");
  const ExtractOutcome none = f.extract("a.bin");
  CHECK(none.kind == Kind::kUnavailable);
  CHECK_THAT(none.reason, Catch::Contains("cannot start the extractor") &&
                              Catch::Contains("/nonexistent/dropd-extract"));
}

TEST_CASE("ExtractorPool passes the limits to each helper it starts", "[pipeline]") {
  test::TempDir logdir;
  const auto log_path = logdir.path() / "starts.log";
  ::setenv("FAKE_EXTRACT_LOG", log_path.c_str(), 1);
  {
    PoolFixture f;
    (void)documentOf(f.extract("a.bin"));
  }
  ::unsetenv("FAKE_EXTRACT_LOG");
  CHECK_THAT(test::TempDir::read(log_path),
             Catch::Contains(" --memory 1073741824 --cpu-seconds 30\n"));
}

}  // namespace
}  // namespace dropd::pipeline
