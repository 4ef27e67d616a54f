#include "dropd/pipeline/lookup_queue.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/pipeline/ledger.hpp"

#include "support/loop_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using dropd::pipeline::Ledger;
using dropd::pipeline::LedgerLookup;
using dropd::pipeline::LedgerRow;
using dropd::pipeline::LookupQueue;

namespace {

dropd::file::FileIdentity identityOf(std::uint64_t ino) {
  return {.dev = 1, .ino = ino, .size = 10, .mtime = std::chrono::system_clock::time_point{1s}};
}

struct Ask {
  std::string rel;
  std::uint64_t ino;
};

// Pool: the one look-up each test asks for, with the lent connection.
bool finished(LedgerLookup& lookup, Ask ask) {
  const auto found = lookup.find("p", ask.rel, identityOf(ask.ino));
  return found.has_value() && found->has_value();
}

}  // namespace

TEST_CASE("LookupQueue lends its connection to one look-up at a time, in order", "[pipeline]") {
  dropd::test::LoopFixture loop;
  dropd::test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger.has_value());
  LedgerRow row;
  row.pipeline = "p";
  row.rel = "a.txt";
  row.identity = identityOf(7);
  row.result_path = "/out/a.txt.json";
  REQUIRE((*ledger)->record(std::vector<LedgerRow>{row}).has_value());
  auto lookup = LedgerLookup::open((*ledger)->path());
  REQUIRE(lookup.has_value());
  LookupQueue queue(loop.get(), std::move(*lookup));
  CHECK_FALSE(queue.busy());

  std::vector<std::string> answers;
  queue.run<Ask, bool>({"a.txt", 7}, finished,
                       [&](bool hit) { answers.push_back(hit ? "a:row" : "a:none"); });
  // The connection is out now: these wait for it, in the order asked.
  queue.run<Ask, bool>({"b.txt", 8}, finished,
                       [&](bool hit) { answers.push_back(hit ? "b:row" : "b:none"); });
  queue.run<Ask, bool>({"a.txt", 8}, finished, [&](bool hit) {
    answers.push_back(hit ? "a8:row" : "a8:none");
    // Asked from a done callback: runs next, once the connection is back.
    queue.run<Ask, bool>({"a.txt", 7}, finished,
                         [&](bool again) { answers.push_back(again ? "a:row" : "a:none"); });
  });
  CHECK(queue.busy());
  loop.runUntil([&] { return answers.size() == 4; });
  CHECK(answers == std::vector<std::string>{"a:row", "b:none", "a8:none", "a:row"});
  CHECK_FALSE(queue.busy());
}
