// Intake on its own: real folders and threadpool scans, time on a
// ManualClock, no Pipeline, Dispatcher or LLM. The test plays the
// Pipeline: it takes paths (next()) and says when their jobs are over.
#include "dropd/pipeline/intake.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include "dropd/config/load.hpp"
#include "dropd/pipeline/finished_index.hpp"
#include "dropd/pipeline/job_events.hpp"

#include "support/loop_fixture.hpp"
#include "support/manual_clock.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using dropd::pipeline::Finished;
using dropd::pipeline::Intake;
using dropd::pipeline::JobEvent;
using dropd::pipeline::JobState;

namespace {

struct Harness {
  explicit Harness(std::uint64_t spread_seed = 0) {
    fs::create_directories(dir.path() / "inbox");
    config = dropd::config::loadConfigString(fmt::format(R"(
state_dir: {root}/state
endpoints:
  unused:
    url: http://127.0.0.1:9/v1/chat/completions
    model: test
pipelines:
  - name: p
    watch: [ {root}/inbox ]
    settle: 10s
    rescan_interval: 0
    endpoint: unused
    prompt: {{ user: "{{{{content}}}}" }}
    output: {{ dir: {root}/outbox }}
    on_success: {{ action: keep }}
    on_failure: {{ action: move, dir: {root}/failed }}
)",
                                                         fmt::arg("root", dir.path().string())),
                                             "test.yaml");
    events.subscribe([this](const JobEvent& e) {
      seen.push_back(fmt::format("{} {}>{}", e.rel, toString(e.from), toString(e.to)));
    });
    intake = std::make_unique<Intake>(
        Intake::Deps{
            loop.get(), clock, *log, finished, nullptr, [this] { ++ready; },
            [this](const Intake::Pending& p, const Finished&) { recovered.push_back(p.rel); },
            &events, spread_seed},
        config.pipelines[0]);
  }
  ~Harness() {
    intake->stop();
    loop.runUntil([this] { return !intake->discoveryJobRunning(); });
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Runs a scan to its end (once mode: no watching).
  void scanned() {
    loop.runUntil([this] { return !intake->discoveryJobRunning() && intake->startupScanDone(); });
  }
  std::set<std::string> takeAll() {
    std::set<std::string> rels;
    while (intake->hasNext()) {
      rels.insert(intake->next().rel);
    }
    return rels;
  }
  dropd::file::FileIdentity identityOf(const std::string& rel) const {
    dropd::file::FileIdentity identity;
    std::string error;
    REQUIRE(dropd::file::statFile(dir.path() / "inbox" / rel, identity, error) ==
            dropd::file::ReadStatus::kOk);
    return identity;
  }

  dropd::test::LoopFixture loop;  // first: destroyed last
  dropd::test::ManualClock clock;
  dropd::test::TempDir dir;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  dropd::config::Config config;
  dropd::pipeline::FinishedIndex finished;
  dropd::pipeline::JobEvents events{clock};
  std::unique_ptr<Intake> intake;
  std::size_t ready = 0;
  std::vector<std::string> recovered;
  std::vector<std::string> seen;
};

TEST_CASE("Intake hands out each path once until its job is over", "[pipeline]") {
  Harness h;
  h.dir.write("inbox/a.txt", "a");
  h.dir.write("inbox/b.txt", "b");
  h.intake->start(Intake::Mode::kOnce);
  h.scanned();
  CHECK(h.ready > 0);
  CHECK(h.intake->discovered() == 2);
  REQUIRE(h.takeAll() == std::set<std::string>{"a.txt", "b.txt"});

  SECTION("a rescan does not hand out paths on their way") {
    h.intake->rescanForTest();
    h.loop.runUntil([&h] { return !h.intake->discoveryJobRunning(); });
    CHECK_FALSE(h.intake->hasNext());
    CHECK_FALSE(h.intake->idle());
  }
  SECTION("once a job is over, its path can be found again") {
    h.intake->jobOver("a.txt");
    h.intake->rescanForTest();
    h.loop.runUntil([&h] { return !h.intake->discoveryJobRunning(); });
    CHECK(h.takeAll() == std::set<std::string>{"a.txt"});
    h.intake->jobOver("a.txt");
    h.intake->jobOver("b.txt");
    CHECK(h.intake->idle());
  }
}

TEST_CASE("Intake in fleet mode hands its backlog out in a spread order", "[pipeline]") {
  std::vector<std::vector<std::string>> orders;
  for (const std::uint64_t seed : {0ull, 7ull, 8ull}) {
    Harness h(seed);
    for (int i = 0; i < 100; ++i) {
      h.dir.write(fmt::format("inbox/f{:03}.txt", i), "x");
    }
    h.intake->start(Intake::Mode::kOnce);
    h.scanned();
    std::vector<std::string> order;
    while (h.intake->hasNext()) {
      order.push_back(h.intake->next().rel);
    }
    std::vector<std::string> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());  // each once
    CHECK(sorted.size() == 100);
    orders.push_back(std::move(order));
  }
  // Neither instance (seed) walks in the scan's order, nor in the other's.
  CHECK(orders[1] != orders[0]);
  CHECK(orders[2] != orders[0]);
  CHECK(orders[1] != orders[2]);
}

TEST_CASE("Intake holds a file still being written for settle", "[pipeline]") {
  Harness h;
  h.dir.write("inbox/w.txt", "half");
  h.intake->start(Intake::Mode::kOnce);
  h.scanned();
  Intake::Pending pending = h.intake->next();
  h.intake->settleAgain(pending, h.identityOf("w.txt"));
  CHECK_FALSE(h.intake->hasNext());
  CHECK(h.intake->backlog() == 1);
  h.clock.advance(9s);
  h.intake->releaseSettledForTest();
  CHECK_FALSE(h.intake->hasNext());
  h.clock.advance(1s);
  h.intake->releaseSettledForTest();
  REQUIRE(h.intake->hasNext());
  CHECK(h.intake->next().rel == "w.txt");
  CHECK(h.seen == std::vector<std::string>{"w.txt discovered>queued", "w.txt queued>reading",
                                           "w.txt reading>settling", "w.txt settling>queued",
                                           "w.txt queued>reading"});
}

TEST_CASE("Intake leaves finished files alone, or has their disposal redone", "[pipeline]") {
  Harness h;
  h.dir.write("inbox/kept.txt", "answered and kept");
  h.dir.write("inbox/failed.txt", "failed, its move cut off");
  h.finished.remember("kept.txt", {h.identityOf("kept.txt"), /*done=*/true, {}});
  h.finished.remember("failed.txt", {h.identityOf("failed.txt"), /*done=*/false, {}});
  h.intake->start(Intake::Mode::kOnce);
  h.scanned();
  CHECK_FALSE(h.intake->hasNext());
  CHECK(h.recovered == std::vector<std::string>{"failed.txt"});  // on_failure: move
  CHECK_FALSE(h.intake->idle());                                 // until the recovery's job is over
  h.intake->jobOver("failed.txt");
  CHECK(h.intake->idle());
}

TEST_CASE("Intake forgets its backlog when it stops", "[pipeline]") {
  Harness h;
  h.dir.write("inbox/q.txt", "queued");
  h.intake->start(Intake::Mode::kOnce);
  h.scanned();
  h.intake->stop();
  CHECK_FALSE(h.intake->hasNext());
  CHECK(h.intake->idle());
  CHECK(h.seen == std::vector<std::string>{"q.txt discovered>queued", "q.txt queued>forgotten"});
}

}  // namespace
