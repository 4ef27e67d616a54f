// When does a file count as finished? One real Pipeline (real folders,
// inotify, threadpool reads, Sink, and dropd-fake-llm on loopback), with
// time on a ManualClock: each step waits for an event (the watcher's, a
// read coming back, a commit), and settle time passes only when the test
// advances the clock and releases what is due.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
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
using dropd::WallTime;
using dropd::pipeline::Pipeline;

namespace {

constexpr auto kSettle = 10s;

// Sets a file's mtime: "the writer's last write was at `when`" on the test's clock.
void setMtime(const fs::path& path, WallTime when) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch());
  timespec times[2] = {{0, UTIME_OMIT},
                       {static_cast<time_t>(ns.count() / 1'000'000'000),
                        static_cast<long>(ns.count() % 1'000'000'000)}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

// Opens (creating), appends and closes: one close-after-write event per call.
void append(const fs::path& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  REQUIRE(::close(fd) == 0);
}

std::set<std::string> filesUnder(const fs::path& dir) {
  std::set<std::string> names;
  if (fs::exists(dir)) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file()) {
        names.insert(fs::relative(entry.path(), dir).string());
      }
    }
  }
  return names;
}

nlohmann::json readJson(const fs::path& path) {
  return nlohmann::json::parse(dropd::test::TempDir::read(path));
}

// One pipeline watching dir/inbox in daemon mode, wired as the daemon wires
// it, against an in-process dropd-fake-llm.
class Harness {
 public:
  explicit Harness(std::string_view on_success = "keep") {
    for (const char* name : {"inbox", "outbox", "done", "failed"}) {
      fs::create_directories(dir.path() / name);
    }
    auto started = dropd::fake_llm::FakeLlm::start(loop.get(), {}, clock);
    REQUIRE(started.has_value());
    fake = std::move(*started);
    const std::string success_rule =
        on_success == "move"
            ? fmt::format("{{ action: move, dir: {} }}", (dir.path() / "done").string())
            : fmt::format("{{ action: {} }}", on_success);
    const std::string yaml =
        fmt::format(R"(
state_dir: {root}/state
endpoints:
  fake:
    url: http://127.0.0.1:{port}/v1/chat/completions
    model: test
pipelines:
  - name: p
    watch: [ {root}/inbox ]
    settle: {settle}ms
    rescan_interval: 0
    endpoint: fake
    prompt: {{ user: "{{{{content}}}}" }}
    output: {{ dir: {root}/outbox }}
    on_success: {success}
    on_failure: {{ action: move, dir: {root}/failed }}
)",
                    fmt::arg("root", dir.path().string()), fmt::arg("port", fake->port()),
                    fmt::arg("settle", std::chrono::milliseconds(kSettle).count()),
                    fmt::arg("success", success_rule));
    config = dropd::config::loadConfigString(yaml, "test.yaml");
    auto dispatcher_made =
        dropd::pipeline::Dispatcher::create(loop.get(), config.endpoints[0], clock, *log);
    REQUIRE(dispatcher_made.has_value());
    dispatcher = std::move(*dispatcher_made);
    auto sink_made = dropd::pipeline::Sink::create(loop.get(), *log, 3, nullptr, [this] {
      ++committed;
      budget->wake();
    });
    REQUIRE(sink_made.has_value());
    sink = std::move(*sink_made);
    budget = std::make_unique<dropd::pipeline::ReadBudget>(config.endpoints[0].limits.max_in_flight,
                                                           *sink);
    pipeline = std::make_unique<Pipeline>(
        Pipeline::Deps{
            loop.get(), clock, *log, *dispatcher, *sink, *budget, nullptr, nullptr, {}, nullptr},
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

  void start() {
    pipeline->start(Pipeline::Mode::kDaemon);
    loop.runUntil([this] { return pipeline->startupScanDone() && pipeline->idle(); });
  }

  [[nodiscard]] fs::path inbox(const std::string& rel = "") const {
    return dir.path() / "inbox" / rel;
  }
  [[nodiscard]] fs::path outbox() const { return dir.path() / "outbox"; }

  // Waits until `n` paths wait for settle time and no read is running.
  void awaitSettling(std::size_t n) {
    loop.runUntil([&] { return !pipeline->poolWorkPending() && pipeline->backlog() >= n; });
    REQUIRE(pipeline->backlog() == n);
  }
  // Moves the clock on and lets due paths go (what the settle timer does).
  void advance(std::chrono::nanoseconds by) {
    clock.advance(by);
    pipeline->releaseSettledForTest();
  }
  // Waits until everything released has been read, sent and committed, or
  // gone back to settling.
  void awaitQuiet() {
    loop.runUntil([this] {
      return !pipeline->poolWorkPending() && sink->pending() == 0 && dispatcher->held() == 0;
    });
  }
  // The writer appends `text` to inbox/rel now, as one open-write-close.
  void write(const std::string& rel, std::string_view text) {
    append(inbox(rel), text);
    setMtime(inbox(rel), clock.wallNow());
  }
  // The one path waiting: settle time passes, then it is read, sent and committed.
  void settleAndProcess() {
    awaitSettling(1);
    advance(kSettle);
    awaitQuiet();
  }

  dropd::test::LoopFixture loop;  // first: destroyed last
  dropd::test::ManualClock clock;
  dropd::test::TempDir dir;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::unique_ptr<dropd::fake_llm::FakeLlm> fake;
  dropd::config::Config config;
  std::unique_ptr<dropd::pipeline::Dispatcher> dispatcher;
  std::unique_ptr<dropd::pipeline::Sink> sink;
  std::unique_ptr<dropd::pipeline::ReadBudget> budget;
  std::unique_ptr<Pipeline> pipeline;
  std::size_t committed = 0;
};

}  // namespace

TEST_CASE("Pipeline sends a file written in small writes once it is quiet for settle",
          "[pipeline]") {
  Harness h;
  h.start();
  const fs::path file = h.inbox("slow.txt");
  const WallTime t0 = h.clock.wallNow();

  SECTION("a writer that closes the file after each write") {
    append(file, "one two\n");
    setMtime(file, t0);
    h.awaitSettling(1);  // the close-after-write event

    h.advance(kSettle / 2);
    append(file, "three four\n");  // its event finds the path already settling
    setMtime(file, h.clock.wallNow());
    h.advance(kSettle / 2);  // settle has passed since the first write, not the last
    h.awaitSettling(1);      // read, found modified too recently: settling again
    CHECK(h.fake->chatRequests() == 0);

    h.advance(kSettle - 1ms);
    h.awaitQuiet();
    CHECK(h.fake->chatRequests() == 0);
    CHECK(h.pipeline->backlog() == 1);

    h.advance(1ms);
    h.awaitQuiet();
  }

  SECTION("a writer that keeps the file open (found by a rescan) and closes it late") {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "one two\n", 8) == 8);
    setMtime(file, t0);
    h.pipeline->rescanForTest();  // no event yet: the file is still open
    h.awaitSettling(1);           // read at once, modified too recently

    h.advance(kSettle / 2);
    REQUIRE(::write(fd, "three four\n", 11) == 11);
    setMtime(file, h.clock.wallNow());
    h.advance(kSettle / 2);
    h.awaitSettling(1);
    REQUIRE(::close(fd) == 0);  // the close event finds the path settling
    CHECK(h.fake->chatRequests() == 0);

    h.advance(kSettle);
    h.awaitQuiet();
  }

  // Sent once, with every write in it.
  CHECK(h.fake->chatRequests() == 1);
  CHECK(h.pipeline->backlog() == 0);
  REQUIRE(filesUnder(h.outbox()) == std::set<std::string>{"slow.txt.json"});
  const auto result = readJson(h.outbox() / "slow.txt.json");
  CHECK(result["stats"]["words"] == 4);
  CHECK(result["stats"]["lines"] == 2);
}

TEST_CASE("Pipeline never sends a writer's temp name, and sends the file renamed in",
          "[pipeline]") {
  Harness h;
  h.start();
  const auto [temp, writer] = GENERATE(table<std::string, std::string>({
      {".report.txt.a1B2c3", "rsync"},
      {"report.txt.tmp", "an atomic writer"},
      {"report.txt.part", "a browser or curl download"},
  }));
  INFO("temp name of " << writer << ": " << temp);

  h.write(temp, "the report body\n");
  h.write("marker.txt", "marker\n");  // its event comes after the temp file's
  h.settleAndProcess();               // the marker's only: one path waits
  CHECK(h.fake->chatRequests() == 1);
  CHECK(filesUnder(h.outbox()) == std::set<std::string>{"marker.txt.json"});

  fs::rename(h.inbox(temp), h.inbox("report.txt"));  // the file is complete: moved in
  h.settleAndProcess();
  CHECK(h.fake->chatRequests() == 2);
  CHECK(filesUnder(h.outbox()) == std::set<std::string>{"marker.txt.json", "report.txt.json"});
  CHECK(readJson(h.outbox() / "report.txt.json")["stats"]["words"] == 3);
}

TEST_CASE("Pipeline finds a file that no event announced at the next rescan", "[pipeline]") {
  // A root that is missing at start cannot be watched: nothing written in
  // it raises an event until a rescan watches it (as on a share inotify
  // cannot see into; tests/e2e/test_network_fs_poll.py covers real FUSE).
  Harness h;
  fs::remove(h.inbox());
  h.start();
  fs::create_directories(h.inbox());
  append(h.inbox("early.txt"), "written before the watch\n");
  setMtime(h.inbox("early.txt"), h.clock.wallNow() - 2 * kSettle);
  CHECK(h.pipeline->idle());

  h.pipeline->rescanForTest();  // watches the root again, then walks it
  h.awaitQuiet();
  CHECK(h.fake->chatRequests() == 1);
  CHECK(filesUnder(h.outbox()) == std::set<std::string>{"early.txt.json"});

  h.write("late.txt", "written after the rescan\n");  // now inotify sees it
  h.settleAndProcess();
  CHECK(h.fake->chatRequests() == 2);
  CHECK(filesUnder(h.outbox()) == std::set<std::string>{"early.txt.json", "late.txt.json"});
}

TEST_CASE("Pipeline treats a file written again under a processed name as a new job",
          "[pipeline]") {
  SECTION("kept in place: a rescan of the unchanged file sends nothing, a change is a new job") {
    Harness h("keep");
    h.start();
    h.write("notes.txt", "first version\n");
    h.settleAndProcess();
    REQUIRE(h.fake->chatRequests() == 1);

    h.pipeline->rescanForTest();
    h.awaitQuiet();
    h.loop.runUntil([&] { return h.pipeline->idle(); });
    CHECK(h.fake->chatRequests() == 1);  // same inode, size and mtime: finished

    h.write("notes.txt", "second part\n");
    h.settleAndProcess();
    CHECK(h.fake->chatRequests() == 2);
    // Each version keeps its own result: the first one is not replaced.
    REQUIRE(filesUnder(h.outbox()) == std::set<std::string>{"notes.txt.json", "notes.txt.1.json"});
    CHECK(readJson(h.outbox() / "notes.txt.json")["stats"]["words"] == 2);
    CHECK(readJson(h.outbox() / "notes.txt.1.json")["stats"]["words"] == 4);
  }

  SECTION("moved away: a new file at the same path is a new job, and nothing is replaced") {
    Harness h("move");
    h.start();
    for (const char* content : {"monday report\n", "tuesday report longer\n"}) {
      h.write("daily.txt", content);
      h.settleAndProcess();
    }
    CHECK(h.fake->chatRequests() == 2);
    CHECK(filesUnder(h.dir.path() / "done") == std::set<std::string>{"daily.txt", "daily.txt.1"});
    REQUIRE(filesUnder(h.outbox()) == std::set<std::string>{"daily.txt.json", "daily.txt.1.json"});
    CHECK(readJson(h.outbox() / "daily.txt.json")["stats"]["words"] == 2);
    CHECK(readJson(h.outbox() / "daily.txt.1.json")["stats"]["words"] == 3);
  }
}
