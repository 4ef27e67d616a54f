// Claims: the fleet's book of held files, over a LedgerStore. The
// PostgreSQL side (two instances, leases, the fence) is in
// tests/postgres/pg_ledger_store_test.cpp; here the book's own rules.
#include "dropd/pipeline/claims.hpp"

#include <catch2/catch.hpp>

namespace dropd::pipeline {
namespace {

TEST_CASE("instanceName is host:pid:start", "[pipeline]") {
  CHECK(instanceName("web-1", 4242, 1'765'000'000) == "web-1:4242:1765000000");
  CHECK(instanceName("", 1, 0) == "localhost:1:0");
}

}  // namespace
}  // namespace dropd::pipeline
