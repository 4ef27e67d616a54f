// PgLedgerStore: the fleet's live instances (docs/fleet.md, "Shared
// endpoint limits"), on the tries lane with the claims. Seen times are the
// server's clock, never a host's.
#include <algorithm>
#include <cstdint>
#include <utility>

#include "dropd/postgres/pg_ledger_store.hpp"

#include "pg_params.hpp"

namespace dropd::postgres {
namespace {

namespace p = params;

// Marks $1 seen and counts the others seen within $2 seconds. The count
// reads the snapshot from before the upsert (a statement's parts share
// one), so this holder is added as 1. Rows of instances gone for a day
// (crashed, never stopped cleanly) are removed on the way.
constexpr const char* kHeartbeatSql =
    "WITH seen AS (INSERT INTO dropd_instances (holder, seen_at) VALUES ($1::text, now())"
    " ON CONFLICT (holder) DO UPDATE SET seen_at = now() RETURNING holder),"
    " gone AS (DELETE FROM dropd_instances WHERE seen_at < now() - interval '1 day'"
    " AND holder <> $1::text)"
    " SELECT 1 + count(*) FROM dropd_instances WHERE holder <> $1::text"
    " AND seen_at > now() - make_interval(secs => $2::bigint)";

constexpr const char* kLeaveSql = "DELETE FROM dropd_instances WHERE holder = $1::text";

}  // namespace

void PgLedgerStore::heartbeat(std::string holder, std::chrono::seconds lease,
                              Done<std::uint32_t> done) {
  run(kTries, {"dropd_heartbeat", kHeartbeatSql, {p::text(holder), p::int64(lease.count())}},
      [done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        const std::int64_t live = r->rows() > 0 ? r->int64At(0, 0) : 1;
        done(static_cast<std::uint32_t>(std::clamp<std::int64_t>(live, 1, UINT32_MAX)));
      });
}

void PgLedgerStore::leave(std::string holder, StatusDone done) {
  run(kTries, {"dropd_leave", kLeaveSql, {p::text(holder)}},
      [done = std::move(done)](Result<PgResult> r) {
        done(r ? Status{} : Status{tl::unexpected(std::move(r.error()))});
      });
}

}  // namespace dropd::postgres
