#include "dropd/pipeline/sink.hpp"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sqlite3.h>

#include "dropd/pipeline/sqlite_ledger_store.hpp"

#include "support/loop_fixture.hpp"
#include "support/temp_dir.hpp"

using dropd::pipeline::Job;
using dropd::pipeline::Ledger;
using dropd::pipeline::LedgerRow;
using dropd::pipeline::Sink;
using dropd::pipeline::SqliteLedgerStore;
namespace fs = std::filesystem;

namespace {

struct Done {
  std::string rel;
  dropd::file::CommitOutcome outcome;
};

// A Sink with a ledger in state/; job <rel> has its source in in/<rel>, its
// record going to out/<rel>.json and its source moving to done/<rel>.
struct Fixture {
  dropd::test::LoopFixture loop;
  dropd::test::TempDir dir;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::vector<Done> done;
  std::unique_ptr<SqliteLedgerStore> store;
  std::unique_ptr<Sink> sink;
  Ledger* ledger = nullptr;  // the store's writer; read only while it is idle

  Fixture() {
    store = std::move(*SqliteLedgerStore::open(loop.get(), dir.path() / "state"));
    auto created = Sink::create(loop.get(), log, 3, store.get(), [] {});
    REQUIRE(created);
    sink = std::move(*created);
    ledger = store->writerWhileIdle();
  }

  void add(const std::string& rel, const fs::path& out_dir) {
    const fs::path source = dir.write("in/" + rel, "content of " + rel);
    auto job = std::make_unique<Job>();
    job->rel = rel;
    job->path = source;
    dropd::file::CommitItem item;
    item.record_path = out_dir / (rel + ".json");
    item.record = "{}\n";
    item.source = source;
    item.disposal = dropd::file::Disposal::kMove;
    item.move_to = dir.path() / "done" / rel;
    LedgerRow row;
    row.pipeline = "p";
    row.rel = rel;
    row.source_moved_to = item.move_to;
    sink->add(std::move(job), std::move(item), std::move(row),
              [this](std::unique_ptr<Job> back, const auto& outcome) {
                done.push_back({back->rel, outcome});
              });
  }
  void add(const std::string& rel) { add(rel, dir.path() / "out"); }

  void runUntilDone(std::size_t n) {
    loop.runUntil([&] { return done.size() == n && !sink->committing(); });
    CHECK(sink->pending() == 0);
  }
};

}  // namespace

TEST_CASE("Sink writes records, then ledger rows, then moves sources", "[pipeline]") {
  Fixture f;
  constexpr std::size_t kJobs = 2 * Sink::kMaxBatch + 7;  // several batches in both stages

  SECTION("every job ends with its record, its row and its source moved") {
    for (std::size_t i = 0; i < kJobs; ++i) {
      f.add(fmt::format("f{:04}.txt", i));
    }
    f.runUntilDone(kJobs);
    for (const Done& d : f.done) {
      CHECK(d.outcome.record_written);
      CHECK(d.outcome.source_disposed);
      CHECK(d.outcome.placed_at == f.dir.path() / "out" / (d.rel + ".json"));
      CHECK(fs::exists(d.outcome.placed_at));
      CHECK(fs::exists(f.dir.path() / "done" / d.rel));
    }
    const auto rows = f.ledger->loadAll();
    REQUIRE(rows->size() == kJobs);
    CHECK(rows->front().result_path == f.dir.path() / "out" / (rows->front().rel + ".json"));
  }
  SECTION("a failed ledger commit keeps every source of the batch in place") {
    // Behind the ledger's back, as a broken file would: its upsert now fails.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((f.dir.path() / "state" / "ledger.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DROP TABLE jobs", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    for (int i = 0; i < 3; ++i) {
      f.add(fmt::format("f{}.txt", i));
    }
    f.runUntilDone(3);
    for (const Done& d : f.done) {
      CHECK(d.outcome.record_written);
      CHECK_FALSE(d.outcome.source_disposed);
      CHECK_THAT(d.outcome.error, Catch::StartsWith("ledger: "));
      CHECK(fs::exists(f.dir.path() / "in" / d.rel));
      CHECK_FALSE(fs::exists(f.dir.path() / "done" / d.rel));
    }
  }
  SECTION("a record that cannot be written gets no row and keeps its source") {
    const fs::path blocked = f.dir.write("blocked", "a file where a folder should be");
    f.add("bad.txt", blocked);
    f.add("good.txt");
    f.runUntilDone(2);
    for (const Done& d : f.done) {
      const bool bad = d.rel == "bad.txt";
      CHECK(d.outcome.record_written == !bad);
      CHECK(d.outcome.source_disposed == !bad);
      CHECK(fs::exists(f.dir.path() / "in" / d.rel) == bad);
    }
    const auto rows = f.ledger->loadAll();
    REQUIRE(rows->size() == 1);
    CHECK(rows->front().rel == "good.txt");
  }
}

// The commit path's own speed (issue 16's hot-path check): jobs added all
// at once (batches of kMaxBatch) and one at a time (one job per batch, so
// every hop of a batch shows). Prints jobs/s; TMPDIR picks the disk.
TEST_CASE("Sink commit speed, in bulk and one job at a time", "[.][bench]") {
  for (const bool one_at_a_time : {false, true}) {
    Fixture f;
    const std::size_t jobs = one_at_a_time ? 300 : 4096;
    const auto began = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < jobs; ++i) {
      f.add(fmt::format("f{:05}.txt", i));
      if (one_at_a_time) {
        f.runUntilDone(i + 1);
      }
    }
    f.runUntilDone(jobs);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
    fmt::print("sink {}: {} jobs in {:.3f} s = {:.0f} jobs/s ({:.1f} us a job)\n",
               one_at_a_time ? "one at a time" : "bulk", jobs, took.count(),
               static_cast<double>(jobs) / took.count(), took.count() * 1e6 / jobs);
  }
}
