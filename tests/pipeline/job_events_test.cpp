// Job states: the table of allowed transitions, and what a listener of
// JobEvents sees of whole files going through one real Pipeline (a scan,
// threadpool reads, the Dispatcher, the Sink) against dropd-fake-llm on
// loopback, scripted with faults: one file is retried once, one fails.
#include "dropd/pipeline/job_events.hpp"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dropd/config/load.hpp"
#include "dropd/fake_llm/fake_llm.hpp"
#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/pipeline/pipeline.hpp"
#include "dropd/pipeline/read_budget.hpp"
#include "dropd/pipeline/sink.hpp"

#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using dropd::pipeline::allowedTransition;
using dropd::pipeline::JobEvent;
using dropd::pipeline::JobEvents;
using dropd::pipeline::JobState;
using dropd::pipeline::Pipeline;

namespace {

using Path = std::vector<std::string>;  // "from>to" for each event of one file

TEST_CASE("Job state table allows the drawn path and refuses shortcuts", "[pipeline]") {
  SECTION("the way of a file that is sent") {
    const std::vector<JobState> path = {
        JobState::kDiscovered, JobState::kSettling, JobState::kQueued,  JobState::kReading,
        JobState::kWaiting,    JobState::kSending,  JobState::kBackoff, JobState::kWaiting,
        JobState::kSending,    JobState::kWriting,  JobState::kDone};
    for (std::size_t i = 1; i < path.size(); ++i) {
      CHECK(allowedTransition(path[i - 1], path[i]));
    }
  }
  SECTION("a state is left only forward, or without an outcome") {
    CHECK_FALSE(allowedTransition(JobState::kQueued, JobState::kSending));
    CHECK_FALSE(allowedTransition(JobState::kWaiting, JobState::kWriting));
    CHECK_FALSE(allowedTransition(JobState::kBackoff, JobState::kSending));
    CHECK(allowedTransition(JobState::kBackoff, JobState::kForgotten));
    CHECK(allowedTransition(JobState::kWriting, JobState::kWriting));  // result -> error record
  }
  SECTION("terminal states go nowhere") {
    for (const JobState end :
         {JobState::kDone, JobState::kFailed, JobState::kSkipped, JobState::kForgotten}) {
      CHECK_FALSE(allowedTransition(end, JobState::kForgotten));
      CHECK_FALSE(allowedTransition(end, JobState::kQueued));
    }
  }
}

// One pipeline on dir/inbox in --once mode, wired as the daemon wires it.
struct Harness {
  // `extra`: more keys of the pipeline, each line indented by four spaces.
  explicit Harness(const std::string& extra = "") {
    for (const char* name : {"inbox", "outbox", "failed"}) {
      fs::create_directories(dir.path() / name);
    }
    auto started = dropd::fake_llm::FakeLlm::start(loop.get(), {}, clock);
    REQUIRE(started.has_value());
    fake = std::move(*started);
    config = dropd::config::loadConfigString(
        fmt::format(R"(
state_dir: {root}/state
endpoints:
  fake:
    url: http://127.0.0.1:{port}/v1/chat/completions
    model: test
    retry: {{ max_attempts: 3, initial_backoff: 1ms, max_backoff: 2ms }}
pipelines:
  - name: p
    watch: [ {root}/inbox ]
    settle: 0ms
    endpoint: fake
    prompt: {{ user: "{{{{content}}}}" }}
    output: {{ dir: {root}/outbox }}
    on_success: {{ action: keep }}
    on_failure: {{ action: move, dir: {root}/failed }}
{extra})",
                    fmt::arg("root", dir.path().string()), fmt::arg("port", fake->port()),
                    fmt::arg("extra", extra)),
        "test.yaml");
    dispatcher = std::move(
        *dropd::pipeline::Dispatcher::create(loop.get(), config.endpoints[0], clock, *log));
    sink = std::move(
        *dropd::pipeline::Sink::create(loop.get(), *log, 3, nullptr, [this] { budget->wake(); }));
    budget = std::make_unique<dropd::pipeline::ReadBudget>(config.endpoints[0].limits.max_in_flight,
                                                           *sink);
    events.subscribe([this](const JobEvent& e) {
      paths[std::string(e.rel)].push_back(fmt::format("{}>{}", toString(e.from), toString(e.to)));
      reasons[std::string(e.rel)].emplace_back(e.reason);
      CHECK(e.pipeline == "p");
      CHECK(e.at == clock.wallNow());
    });
    pipeline = std::make_unique<Pipeline>(
        Pipeline::Deps{
            loop.get(), clock, *log, *dispatcher, *sink, *budget, nullptr, &events, {}, nullptr},
        config.pipelines[0], config.endpoints[0], 0);
  }
  ~Harness() {
    pipeline->stopDiscovery();
    dispatcher->close();
    loop.runUntil([this] { return !pipeline->poolWorkPending() && !sink->committing(); });
    pipeline.reset();
    budget.reset();
    sink.reset();
    dispatcher.reset();
    fake->close();
    fake.reset();
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // A file the writer finished an hour ago (on the test's clock).
  void drop(const std::string& name, const std::string& content) {
    const fs::path path = dir.write("inbox/" + name, content);
    const auto s =
        std::chrono::duration_cast<std::chrono::seconds>((clock.wallNow() - 1h).time_since_epoch());
    const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(s.count()), 0}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  }
  void run() {
    pipeline->start(Pipeline::Mode::kOnce);
    loop.runUntil([this] { return pipeline->startupScanDone() && pipeline->idle(); });
  }

  dropd::test::LoopFixture loop;  // first: destroyed last
  dropd::test::ManualClock clock;
  dropd::test::TempDir dir;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  JobEvents events{clock};
  std::unique_ptr<dropd::fake_llm::FakeLlm> fake;
  dropd::config::Config config;
  std::unique_ptr<dropd::pipeline::Dispatcher> dispatcher;
  std::unique_ptr<dropd::pipeline::Sink> sink;
  std::unique_ptr<dropd::pipeline::ReadBudget> budget;
  std::unique_ptr<Pipeline> pipeline;
  std::map<std::string, Path> paths;
  std::map<std::string, std::vector<std::string>> reasons;
};

dropd::fake_llm::Fault statusFault(int status, std::string match) {
  dropd::fake_llm::Fault fault;
  fault.status = status;
  fault.match = std::move(match);
  return fault;
}

TEST_CASE("JobEvents listener sees each file's whole path, retries and failures too",
          "[pipeline]") {
  Harness h;
  const Path read = {"discovered>queued", "queued>reading"};
  const auto then = [&read](Path rest) {
    Path whole = read;
    whole.insert(whole.end(), rest.begin(), rest.end());
    return whole;
  };

  SECTION("a file retried once after a 500, then answered") {
    h.drop("retry.txt", "please retry this");
    h.fake->setFaults({statusFault(500, "retry")});
    h.events.subscribe([&h](const JobEvent& e) {
      if (e.to == JobState::kBackoff) {
        h.fake->setFaults({});  // the retry is answered
      }
    });
    h.run();
    CHECK(h.paths["retry.txt"] ==
          then({"reading>waiting", "waiting>sending", "sending>backoff", "backoff>waiting",
                "waiting>sending", "sending>writing", "writing>done"}));
    CHECK(h.reasons["retry.txt"].back() == "result written");
  }
  SECTION("a file refused with a 400 fails at once") {
    h.drop("bad.txt", "a bad request");
    h.fake->setFaults({statusFault(400, "bad")});
    h.run();
    CHECK(h.paths["bad.txt"] ==
          then({"reading>waiting", "waiting>sending", "sending>writing", "writing>failed"}));
    CHECK(fs::exists(h.dir.path() / "failed" / "bad.txt"));
  }
  SECTION("a path dropped from the backlog when discovery stops is forgotten") {
    h.drop("late.txt", "never read");
    h.budget->close();  // no room to read: the path stays queued
    h.pipeline->start(Pipeline::Mode::kOnce);
    h.loop.runUntil([&h] { return !h.paths["late.txt"].empty(); });
    h.pipeline->stopDiscovery();
    CHECK(h.paths["late.txt"] == Path{"discovered>queued", "queued>forgotten"});
    CHECK(h.reasons["late.txt"].back() == "discovery stopped");
  }
}

TEST_CASE("JobEvents listener sees a file too large skipped without a request", "[pipeline]") {
  Harness h("    max_file_size: 4B\n");
  h.drop("big.txt", "more than four bytes");
  h.run();
  CHECK(h.paths["big.txt"] ==
        Path{"discovered>queued", "queued>reading", "reading>writing", "writing>skipped"});
  CHECK(h.fake->chatRequests() == 0);
}

}  // namespace
