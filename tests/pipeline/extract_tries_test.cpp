// ExtractTries: the ledger's count of extraction tries (schema v3).
#include "dropd/pipeline/extract_tries.hpp"

#include <catch2/catch.hpp>

#include "dropd/pipeline/ledger.hpp"

#include "support/temp_dir.hpp"

namespace dropd::pipeline {
namespace {

using namespace std::chrono_literals;

const file::FileIdentity kId{2049, 7, 107, std::chrono::system_clock::time_point{1'700'000'000s}};

TEST_CASE("ExtractTries counts tries durably until max_tries, across connections", "[pipeline]") {
  test::TempDir dir;
  auto ledger = Ledger::open(dir.path());
  REQUIRE(ledger);
  auto tries = ExtractTries::open((*ledger)->path());
  REQUIRE(tries);
  const ExtractTries::Key key{"p", "a.pdf", kId};

  auto first = (*tries)->begin(key, 3, "");
  REQUIRE(first);
  CHECK(first->allowed);
  CHECK(first->tries == 0);
  CHECK(first->last_error.empty());
  auto second = (*tries)->begin(key, 3, "killed by SIGSEGV");
  REQUIRE(second);
  CHECK(second->allowed);
  CHECK(second->tries == 1);
  CHECK(*(*tries)->count(key) == 2);

  SECTION("a new connection (a restart) sees the count; its unknown end is said") {
    tries->reset();
    auto reopened = ExtractTries::open((*ledger)->path());
    REQUIRE(reopened);
    auto third = (*reopened)->begin(key, 3, "");
    REQUIRE(third);
    CHECK(third->allowed);
    CHECK(third->tries == 2);
    CHECK(third->last_error == "dropd stopped while the file was extracted");
    auto fourth = (*reopened)->begin(key, 3, "killed by SIGABRT");
    REQUIRE(fourth);
    CHECK_FALSE(fourth->allowed);
    CHECK(fourth->tries == 3);
    CHECK(fourth->last_error == "killed by SIGABRT");
    CHECK(*(*reopened)->count(key) == 3);  // a refused try is not counted
  }
  SECTION("undo takes a try back, never below 0") {
    REQUIRE((*tries)->undo(key));
    CHECK(*(*tries)->count(key) == 1);
    REQUIRE((*tries)->undo(key));
    REQUIRE((*tries)->undo(key));
    CHECK(*(*tries)->count(key) == 0);
  }
  SECTION("another version of the file counts apart") {
    ExtractTries::Key other = key;
    other.identity.size = 108;
    CHECK(*(*tries)->count(other) == 0);
  }
  SECTION("recording the file's end clears its tries; other rows leave them") {
    LedgerRow row;
    row.pipeline = "p";
    row.rel = "a.pdf";
    row.identity = kId;
    row.state = LedgerState::kFailed;
    row.result_path = "/out/a.pdf.error.json";
    REQUIRE((*ledger)->record({&row, 1}));
    CHECK(*(*tries)->count(key) == 2);  // not marked extracted
    row.extracted = true;
    REQUIRE((*ledger)->record({&row, 1}));
    CHECK(*(*tries)->count(key) == 0);
  }
}

}  // namespace
}  // namespace dropd::pipeline
