#include "dropd/pipeline/ledger_lookup.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/pipeline/ledger.hpp"

#include "support/temp_dir.hpp"

using dropd::pipeline::Ledger;
using dropd::pipeline::LedgerLookup;
using dropd::pipeline::LedgerRow;
using dropd::pipeline::LedgerState;
using namespace std::chrono_literals;

namespace {

LedgerRow makeRow(std::string rel, std::uint64_t ino, LedgerState state = LedgerState::kDone) {
  LedgerRow row;
  row.pipeline = "p";
  row.rel = std::move(rel);
  // Bit 63 set: inode numbers may use it, and the look-up must bind them as Ledger does.
  row.identity = {.dev = 2049,
                  .ino = ino | (1ULL << 63),
                  .size = 100 + ino,
                  .mtime = std::chrono::system_clock::time_point{1'700'000'000'123'456'789ns}};
  row.sha256 = "ab";
  row.state = state;
  row.result_path = "/out/" + row.rel + ".json";
  row.source_moved_to = state == LedgerState::kDone ? "" : "/failed/" + row.rel;
  return row;
}

}  // namespace

TEST_CASE("LedgerLookup finds a file version by its whole key, and only that", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger.has_value());
  auto lookup = LedgerLookup::open((*ledger)->path());
  REQUIRE(lookup.has_value());
  const LedgerRow kept = makeRow("a/kept.txt", 7);
  const LedgerRow failed = makeRow("bad.txt", 8, LedgerState::kFailed);

  CHECK_FALSE((*lookup)->find("p", kept.rel, kept.identity).value());
  // Committed after the look-up connection was opened: the next look-up sees it.
  const std::vector<LedgerRow> rows = {kept, failed};
  REQUIRE((*ledger)->record(rows).has_value());

  const auto hit = (*lookup)->find("p", kept.rel, kept.identity);
  REQUIRE(hit.has_value());
  REQUIRE(hit->has_value());
  CHECK((*hit)->done);
  CHECK((*hit)->result_path == "/out/a/kept.txt.json");

  const auto miss = (*lookup)->find("p", failed.rel, failed.identity);
  REQUIRE(miss.has_value());
  REQUIRE(miss->has_value());
  CHECK_FALSE((*miss)->done);

  SECTION("another version of the file has no row") {
    auto changed = kept.identity;
    SECTION("size") { changed.size += 1; }
    SECTION("mtime") { changed.mtime += 1ns; }
    SECTION("inode") { changed.ino += 1; }
    SECTION("device") { changed.dev += 1; }
    CHECK_FALSE((*lookup)->find("p", kept.rel, changed).value());
  }
  SECTION("another pipeline or path has no row") {
    CHECK_FALSE((*lookup)->find("q", kept.rel, kept.identity).value());
    CHECK_FALSE((*lookup)->find("p", "a/kept.txt.1", kept.identity).value());
  }
}

TEST_CASE("LedgerLookup answers from several threads while the ledger writes", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger.has_value());
  std::vector<LedgerRow> first;
  for (std::uint64_t i = 0; i < 200; ++i) {
    first.push_back(makeRow("f" + std::to_string(i), i));
  }
  REQUIRE((*ledger)->record(first).has_value());

  std::vector<int> found(4, 0);
  // One connection per thread: a LedgerLookup is used by one thread at a time.
  std::vector<std::unique_ptr<LedgerLookup>> lookups;
  for (std::size_t t = 0; t < found.size(); ++t) {
    auto lookup = LedgerLookup::open((*ledger)->path());
    REQUIRE(lookup.has_value());
    lookups.push_back(std::move(*lookup));
  }
  std::vector<std::thread> readers;
  for (std::size_t t = 0; t < found.size(); ++t) {
    readers.emplace_back([&, t] {
      for (const LedgerRow& row : first) {
        const auto hit = lookups[t]->find("p", row.rel, row.identity);
        found[t] += hit.has_value() && hit->has_value() ? 1 : 0;
      }
    });
  }
  for (std::uint64_t i = 200; i < 260; ++i) {  // the writer goes on meanwhile
    const std::vector<LedgerRow> more = {makeRow("f" + std::to_string(i), i)};
    REQUIRE((*ledger)->record(more).has_value());
  }
  for (std::thread& r : readers) {
    r.join();
  }
  CHECK(found == std::vector<int>(4, 200));
}

TEST_CASE("LedgerLookup::open names the file it cannot open", "[pipeline]") {
  dropd::test::TempDir dir;
  const auto missing = LedgerLookup::open(dir.path() / "nope" / "ledger.db");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message().find("nope/ledger.db") != std::string::npos);
}

TEST_CASE("LedgerLookup::findAll answers each key in order, in one go", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger.has_value());
  auto lookup = LedgerLookup::open((*ledger)->path());
  REQUIRE(lookup.has_value());
  const LedgerRow a = makeRow("a.txt", 1);
  const LedgerRow b = makeRow("b.txt", 2, LedgerState::kFailed);
  const std::vector<LedgerRow> rows = {a, b};
  REQUIRE((*ledger)->record(rows).has_value());

  auto changed = a.identity;
  changed.size += 1;
  const std::vector<LedgerLookup::Key> keys = {
      {"b.txt", b.identity}, {"none.txt", a.identity}, {"a.txt", changed}, {"a.txt", a.identity}};
  const auto found = (*lookup)->findAll("p", keys);
  REQUIRE(found.has_value());
  REQUIRE(found->size() == 4);
  REQUIRE((*found)[0].has_value());
  CHECK_FALSE((*found)[0]->done);
  CHECK_FALSE((*found)[1].has_value());
  CHECK_FALSE((*found)[2].has_value());
  REQUIRE((*found)[3].has_value());
  CHECK((*found)[3]->result_path == "/out/a.txt.json");
  CHECK((*lookup)->findAll("p", {})->empty());

  // The transaction is over: a row committed now is seen by the next call.
  const std::vector<LedgerRow> more = {makeRow("none.txt", 1)};
  REQUIRE((*ledger)->record(more).has_value());
  CHECK((*lookup)->findAll("p", keys)->at(1).has_value());
}

TEST_CASE("LedgerLookup::latest answers a path's newest row, whatever its version", "[pipeline]") {
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger.has_value());
  auto lookup = LedgerLookup::open((*ledger)->path());
  REQUIRE(lookup.has_value());
  CHECK_FALSE((*lookup)->latest("p", "a.txt").value());

  LedgerRow first = makeRow("a.txt", 1, LedgerState::kFailed);
  first.attempts = 3;
  first.last_error = "HTTP 500: upstream";
  first.updated_at = std::chrono::sys_seconds{1'800'000'000s};
  REQUIRE((*ledger)->record(std::vector<LedgerRow>{first}).has_value());
  auto found = (*lookup)->latest("p", "a.txt");
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK_FALSE((*found)->done);
  CHECK((*found)->attempts == 3);
  CHECK((*found)->last_error == "HTTP 500: upstream");
  CHECK((*found)->source_moved_to == "/failed/a.txt");
  CHECK((*found)->updated_at == 1'800'000'000);

  // A re-saved version done later: its row is the one answered, the same
  // second or not (the row id breaks the tie).
  LedgerRow second = makeRow("a.txt", 2);
  second.updated_at = first.updated_at;
  REQUIRE((*ledger)->record(std::vector<LedgerRow>{second}).has_value());
  found = (*lookup)->latest("p", "a.txt");
  REQUIRE(found.value().has_value());
  CHECK((*found)->done);
  CHECK((*found)->result_path == "/out/a.txt.json");
  CHECK_FALSE((*lookup)->latest("q", "a.txt").value());
  CHECK_FALSE((*lookup)->latest("p", "a.tx").value());
}
