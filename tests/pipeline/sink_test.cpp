#include "dropd/pipeline/sink.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sqlite3.h>

#include "dropd/pipeline/claims.hpp"
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

namespace {

using dropd::Result;
using dropd::pipeline::ChunkAnswer;
using dropd::pipeline::ChunkKey;
using dropd::pipeline::Claims;
using dropd::pipeline::LedgerStore;

// The SQLite store with a fleet's answers for one file: `renew` and
// `recordClaimed` say `lost_rel` is held by another instance (from the
// first call, or only at the record: the lease lost in between).
class FencingStore final : public LedgerStore {
 public:
  FencingStore(LedgerStore& inner, std::string lost_rel, bool lost_at_check)
      : inner_(inner), lost_rel_(std::move(lost_rel)), lost_at_check_(lost_at_check) {}
  std::string_view backend() const override { return inner_.backend(); }
  std::string where() const override { return inner_.where(); }
  bool busy() const override { return inner_.busy(); }
  void record(std::vector<LedgerRow> rows, StatusDone done) override {
    inner_.record(std::move(rows), std::move(done));
  }
  void findAll(std::string p, std::vector<LookupKey> k,
               Done<std::vector<std::optional<Finished>>> done) override {
    inner_.findAll(std::move(p), std::move(k), std::move(done));
  }
  void latest(std::string p, std::string rel, Done<std::optional<History>> done) override {
    inner_.latest(std::move(p), std::move(rel), std::move(done));
  }
  void forEachRow(std::string p, std::size_t n, PageVisitor v, StatusDone done) override {
    inner_.forEachRow(std::move(p), n, std::move(v), std::move(done));
  }
  void forget(dropd::pipeline::ForgetFilter f, Done<std::size_t> done) override {
    inner_.forget(std::move(f), std::move(done));
  }
  void stats(Done<dropd::pipeline::LedgerStats> done) override { inner_.stats(std::move(done)); }
  void beginTry(TryKey k, std::uint32_t m, std::string e, Done<Try> done) override {
    inner_.beginTry(std::move(k), m, std::move(e), std::move(done));
  }
  void undoTry(TryKey k, StatusDone done) override {
    inner_.undoTry(std::move(k), std::move(done));
  }
  void countTries(TryKey k, Done<std::uint32_t> done) override {
    inner_.countTries(std::move(k), std::move(done));
  }
  void claim(std::string h, std::vector<TryKey> k, std::chrono::seconds l,
             Done<std::vector<bool>> done) override {
    inner_.claim(std::move(h), std::move(k), l, std::move(done));
  }
  void renew(std::string h, std::vector<TryKey> keys, std::chrono::seconds l,
             Done<std::vector<bool>> done) override {
    std::vector<bool> held;
    for (const TryKey& k : keys) {
      held.push_back(!lost_at_check_ || k.rel != lost_rel_);
    }
    inner_.renew(std::move(h), std::move(keys), l,
                 [held, done = std::move(done)](Result<std::vector<bool>>) { done(held); });
  }
  void chunkAnswers(ChunkKey k, Done<std::vector<ChunkAnswer>> done) override {
    inner_.chunkAnswers(std::move(k), std::move(done));
  }
  void recordChunk(ChunkKey k, ChunkAnswer a, StatusDone done) override {
    inner_.recordChunk(std::move(k), std::move(a), std::move(done));
  }
  void forgetChunks(ChunkKey k, Done<std::size_t> done) override {
    inner_.forgetChunks(std::move(k), std::move(done));
  }
  void release(std::string h, std::vector<TryKey> k, StatusDone done) override {
    inner_.release(std::move(h), std::move(k), std::move(done));
  }
  void heartbeat(std::string h, std::chrono::seconds l, Done<std::uint32_t> done) override {
    inner_.heartbeat(std::move(h), l, std::move(done));
  }
  void leave(std::string h, StatusDone done) override {
    inner_.leave(std::move(h), std::move(done));
  }
  void recordClaimed(std::string h, std::vector<LedgerRow> rows,
                     Done<std::vector<bool>> done) override {
    std::vector<bool> written;
    std::vector<LedgerRow> kept;
    for (LedgerRow& r : rows) {
      written.push_back(r.rel != lost_rel_);
      if (r.rel != lost_rel_) {
        kept.push_back(std::move(r));
      }
    }
    inner_.recordClaimed(std::move(h), std::move(kept),
                         [written, done = std::move(done)](Result<std::vector<bool>> r) {
                           done(r ? Result<std::vector<bool>>(written) : r);
                         });
  }

 private:
  LedgerStore& inner_;
  const std::string lost_rel_;
  const bool lost_at_check_;
};

}  // namespace

TEST_CASE("Sink in fleet mode records only what this instance still holds", "[pipeline]") {
  const bool at_check = GENERATE(true, false);
  CAPTURE(at_check);
  dropd::test::LoopFixture loop;
  dropd::test::TempDir dir;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  auto inner = std::move(*SqliteLedgerStore::open(loop.get(), dir.path() / "state"));
  FencingStore store(*inner, "lost.txt", at_check);
  auto claims = Claims::create(loop.get(), log, store, "host:1:2", std::chrono::seconds(30));
  REQUIRE(claims);
  auto sink = std::move(*Sink::create(loop.get(), log, 3, &store, [] {}));
  sink->useClaims(claims->get());
  std::vector<std::pair<std::string, bool>> back;  // rel, claim_lost
  for (const std::string rel : {"kept.txt", "lost.txt"}) {
    const fs::path source = dir.write("in/" + rel, "content of " + rel);
    auto job = std::make_unique<Job>();
    job->rel = rel;
    job->pipeline_name = "p";
    job->path = source;
    job->claimed = true;
    dropd::file::CommitItem item;
    item.record_path = dir.path() / "out" / (rel + ".json");
    item.record = "{}\n";
    item.source = source;
    item.disposal = dropd::file::Disposal::kMove;
    item.move_to = dir.path() / "done" / rel;
    LedgerRow row;
    row.pipeline = "p";
    row.rel = rel;
    sink->add(std::move(job), std::move(item), std::move(row),
              [&back](std::unique_ptr<Job> done, const auto& outcome) {
                CHECK(outcome.record_written == !done->claim_lost);
                back.emplace_back(done->rel, done->claim_lost);
              });
  }
  loop.runUntil([&] { return back.size() == 2 && !sink->committing() && !store.busy(); });
  std::sort(back.begin(), back.end());
  CHECK(back == std::vector<std::pair<std::string, bool>>{{"kept.txt", false}, {"lost.txt", true}});
  CHECK(fs::exists(dir.path() / "done" / "kept.txt"));
  CHECK(fs::exists(dir.path() / "in" / "lost.txt"));  // left to the other holder
  CHECK_FALSE(fs::exists(dir.path() / "done" / "lost.txt"));
  // Lost at the check: its record is never placed. Lost only at the record
  // (a stall past the lease in between): placed, then taken back, so only
  // the holder's outcome (of whatever kind) will stay.
  CHECK_FALSE(fs::exists(dir.path() / "out" / "lost.txt.json"));
  CHECK(fs::exists(dir.path() / "out" / "kept.txt.json"));
  const auto rows = inner->writerWhileIdle()->loadAll();
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().rel == "kept.txt");
  sink.reset();
  claims->reset();
}
