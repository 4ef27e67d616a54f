// PgLedgerStore: claims of jobs in flight (docs/ledger.md, "Jobs in
// flight"), on the tries lane. Expiry is the server's clock, never a host's.
#include <array>
#include <utility>

#include "dropd/postgres/pg_ledger_store.hpp"

#include "pg_params.hpp"

namespace dropd::postgres {
namespace {

namespace p = params;

#define DROPD_PG_KEYS                                                                          \
  "WITH k AS (SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[],"       \
  " $5::bigint[], $6::bigint[]) WITH ORDINALITY AS u(pipeline, rel, dev, ino, size, mtime_ns," \
  " i))"
// Schema v3: dev is not part of a key (it differs between hosts).
#define DROPD_PG_MATCH                                           \
  " c.pipeline = k.pipeline AND c.rel = k.rel AND c.ino = k.ino" \
  " AND c.size = k.size AND c.mtime_ns = k.mtime_ns"

// Taken where no claim exists, where it expired, or where it is already
// this holder's ($7 holder, $8 lease in seconds).
constexpr const char* kClaimSql = DROPD_PG_KEYS
    ", got AS (INSERT INTO dropd_claims AS c (pipeline, rel, dev, ino, size, mtime_ns, holder,"
    " expires_at) SELECT pipeline, rel, dev, ino, size, mtime_ns, $7::text,"
    " now() + make_interval(secs => $8::bigint) FROM k ON CONFLICT (pipeline, rel, ino,"
    " size, mtime_ns) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,"
    " since = CASE WHEN c.holder = excluded.holder THEN c.since ELSE now() END"
    " WHERE c.expires_at < now() OR c.holder = excluded.holder"
    " RETURNING pipeline, rel, ino, size, mtime_ns)"
    " SELECT (k.i - 1)::bigint FROM k JOIN got USING (pipeline, rel, ino, size, mtime_ns)";

constexpr const char* kRenewSql = DROPD_PG_KEYS
    ", r AS (UPDATE dropd_claims c SET expires_at = now() + make_interval(secs => $8::bigint)"
    " FROM k WHERE c.holder = $7::text AND" DROPD_PG_MATCH
    " RETURNING k.i)"
    " SELECT (i - 1)::bigint FROM r";

constexpr const char* kReleaseSql = DROPD_PG_KEYS
    " DELETE FROM dropd_claims c USING k WHERE c.holder = $7::text AND" DROPD_PG_MATCH;

#undef DROPD_PG_KEYS
#undef DROPD_PG_MATCH

std::vector<PgParam> claimParams(const std::vector<pipeline::LedgerStore::TryKey>& keys,
                                 std::string_view holder, std::int64_t lease_s) {
  std::array<p::ArrayLiteral, 6> a;
  for (const auto& k : keys) {
    a[0].addText(k.pipeline);
    a[1].addBytes(k.rel);
    a[2].addInt(p::bits(k.identity.dev));
    a[3].addInt(p::bits(k.identity.ino));
    a[4].addInt(p::bits(k.identity.size));
    a[5].addInt(p::mtimeNs(k.identity));
  }
  std::vector<PgParam> out;
  for (p::ArrayLiteral& literal : a) {
    out.push_back(literal.take());
  }
  out.push_back(p::text(holder));
  out.push_back(p::int64(lease_s));
  return out;
}

// The index-aligned answer from the rows' (index) column.
void answerPerKey(Result<PgResult> r, std::size_t n,
                  const pipeline::LedgerStore::Done<std::vector<bool>>& done) {
  if (!r) {
    done(tl::unexpected(std::move(r.error())));
    return;
  }
  std::vector<bool> out(n, false);
  for (int i = 0; i < r->rows(); ++i) {
    const auto at = static_cast<std::size_t>(r->int64At(i, 0));
    if (at < n) {
      out[at] = true;
    }
  }
  done(std::move(out));
}

}  // namespace

void PgLedgerStore::claim(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
                          Done<std::vector<bool>> done) {
  const std::size_t n = keys.size();
  run(kTries, {"dropd_claim", kClaimSql, claimParams(keys, holder, lease.count())},
      [n, done = std::move(done)](Result<PgResult> r) { answerPerKey(std::move(r), n, done); });
}

void PgLedgerStore::renew(std::string holder, std::vector<TryKey> keys, std::chrono::seconds lease,
                          Done<std::vector<bool>> done) {
  const std::size_t n = keys.size();
  // On the writer lane, as recordClaimed(): one holder's statements on its
  // claims never wait for each other's row locks in opposite orders.
  run(kWriter, {"dropd_renew", kRenewSql, claimParams(keys, holder, lease.count())},
      [n, done = std::move(done)](Result<PgResult> r) { answerPerKey(std::move(r), n, done); });
}

void PgLedgerStore::release(std::string holder, std::vector<TryKey> keys, StatusDone done) {
  std::vector<PgParam> params = claimParams(keys, holder, 0);
  params.pop_back();  // no lease: $8 would have no type
  run(kTries, {"dropd_release", kReleaseSql, std::move(params)},
      [done = std::move(done)](Result<PgResult> r) {
        done(r ? Status{} : Status{tl::unexpected(std::move(r.error()))});
      });
}

}  // namespace dropd::postgres
