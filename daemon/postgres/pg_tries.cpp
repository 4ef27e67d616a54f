// PgLedgerStore: the extraction tries (ExtractTries' contract,
// docs/extract.md), on the tries lane, one statement a call.
#include <utility>

#include "dropd/postgres/pg_ledger_store.hpp"

#include "pg_params.hpp"

namespace dropd::postgres {
namespace {

namespace p = params;

// A file version's key (schema v3): dev ($3) is typed, never compared; it
// differs between the hosts of a fleet (docs/fleet.md).
#define DROPD_PG_KEY                                                                         \
  " pipeline = $1::text AND rel = $2::bytea AND $3::bigint IS NOT NULL AND ino = $4::bigint" \
  " AND size = $5::bigint AND mtime_ns = $6::bigint"

// ExtractTries::begin() in one statement: the count before, and one more
// try written only below max_tries ($7 last_error, $8 now, $9 max_tries).
constexpr const char* kBeginTrySql =
    "WITH prev AS (SELECT coalesce((SELECT tries FROM dropd_extract_tries WHERE" DROPD_PG_KEY
    "), 0) AS tries, coalesce((SELECT last_error FROM dropd_extract_tries WHERE" DROPD_PG_KEY
    "), ''::bytea) AS last_error),"
    " told AS (SELECT tries, CASE WHEN length($7::bytea) > 0 THEN $7::bytea WHEN tries > 0 THEN"
    " convert_to('dropd stopped while the file was extracted', 'UTF8') ELSE last_error END"
    " AS last_error FROM prev),"
    " counted AS (INSERT INTO dropd_extract_tries SELECT $1, $2, $3, $4, $5, $6, told.tries + 1,"
    " told.last_error, $8::bigint FROM told WHERE told.tries < $9::bigint ON CONFLICT (pipeline, "
    "rel, ino, size, mtime_ns) DO UPDATE SET tries = excluded.tries, last_error = "
    "excluded.last_error,"
    " updated_at = excluded.updated_at RETURNING 1)"
    " SELECT told.tries, told.last_error, (SELECT count(*) FROM counted) FROM told";

constexpr const char* kUndoTrySql =
    "UPDATE dropd_extract_tries SET tries = tries - 1 WHERE" DROPD_PG_KEY " AND tries > 0";

constexpr const char* kCountTriesSql = "SELECT tries FROM dropd_extract_tries WHERE" DROPD_PG_KEY;

#undef DROPD_PG_KEY

std::vector<PgParam> keyParams(std::string_view pipeline, std::string_view rel,
                               const file::FileIdentity& id) {
  return {p::text(pipeline),          p::bytes(rel),
          p::int64(p::bits(id.dev)),  p::int64(p::bits(id.ino)),
          p::int64(p::bits(id.size)), p::int64(p::mtimeNs(id))};
}

}  // namespace

void PgLedgerStore::beginTry(TryKey key, std::uint32_t max_tries, std::string last_error,
                             Done<Try> done) {
  std::vector<PgParam> params = keyParams(key.pipeline, key.rel, key.identity);
  params.push_back(p::bytes(last_error));
  params.push_back(p::int64(p::unixNow()));
  params.push_back(p::int64(max_tries));
  run(kTries, {"dropd_begin_try", kBeginTrySql, std::move(params)},
      [max_tries, done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        Try out;
        out.tries = static_cast<std::uint32_t>(r->int64At(0, 0));
        out.last_error = r->bytesAt(0, 1);
        out.allowed = out.tries < max_tries;
        done(std::move(out));
      });
}

void PgLedgerStore::undoTry(TryKey key, StatusDone done) {
  run(kTries, {"dropd_undo_try", kUndoTrySql, keyParams(key.pipeline, key.rel, key.identity)},
      [done = std::move(done)](Result<PgResult> r) {
        done(r ? Status{} : Status{tl::unexpected(std::move(r.error()))});
      });
}

void PgLedgerStore::countTries(TryKey key, Done<std::uint32_t> done) {
  run(kTries, {"dropd_count_tries", kCountTriesSql, keyParams(key.pipeline, key.rel, key.identity)},
      [done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        done(r->rows() == 0 ? 0u : static_cast<std::uint32_t>(r->int64At(0, 0)));
      });
}

}  // namespace dropd::postgres
