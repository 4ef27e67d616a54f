// PgLedgerStore: the finished rows' calls, each one prepared statement on
// its lane. Opening and the schema are in pg_schema.cpp; the extraction
// tries in pg_tries.cpp, claims in pg_claims.cpp, the live instances in
// pg_instances.cpp, chunk answers in pg_chunks.cpp.
#include "dropd/postgres/pg_ledger_store.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "pg_params.hpp"

namespace dropd::postgres {
namespace {

using pipeline::LedgerRow;
using pipeline::LedgerState;
namespace p = params;

#define DROPD_PG_COLUMNS                                                                        \
  "pipeline, rel, dev, ino, size, mtime_ns, sha256, state, attempts, last_error, result_path, " \
  "source_moved_to, created_at, updated_at, prompt_version"

// One batch, one statement: the rows as arrays, unnested; the upsert keeps
// the first created_at; the tries of rows that went through extraction end
// in the same statement (so the same transaction).
constexpr const char* kRecordSql =
    "WITH k AS (SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[],"
    " $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[], $10::bytea[],"
    " $11::bytea[], $12::bytea[], $13::bigint[], $14::bigint[], $15::text[], $16::bool[])"
    " AS u(" DROPD_PG_COLUMNS
    ", extracted)),"
    " up AS (INSERT INTO dropd_jobs (" DROPD_PG_COLUMNS ") SELECT " DROPD_PG_COLUMNS
    " FROM k ON CONFLICT (pipeline, rel, ino, size, mtime_ns) DO UPDATE SET"
    " dev = excluded.dev, sha256 = excluded.sha256, state = excluded.state, attempts = "
    "excluded.attempts,"
    " last_error = excluded.last_error, result_path = excluded.result_path,"
    " source_moved_to = excluded.source_moved_to, updated_at = excluded.updated_at,"
    " prompt_version = excluded.prompt_version RETURNING 1),"
    " cleared AS (DELETE FROM dropd_extract_tries t USING k WHERE k.extracted"
    " AND t.pipeline = k.pipeline AND t.rel = k.rel AND t.ino = k.ino"
    " AND t.size = k.size AND t.mtime_ns = k.mtime_ns RETURNING 1)"
    " SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM cleared)";

// kRecordSql fenced by the claims ($17 the holder): a row is written only
// where this holder's claim of its key is still there, and that claim is
// deleted in the same statement, so a holder that lost its lease (expired
// and taken by another instance) writes nothing. Returns the written rows'
// (0-based) indexes.
constexpr const char* kRecordClaimedSql =
    "WITH k AS (SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[],"
    " $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[], $10::bytea[],"
    " $11::bytea[], $12::bytea[], $13::bigint[], $14::bigint[], $15::text[], $16::bool[]) WITH "
    "ORDINALITY"
    " AS u(" DROPD_PG_COLUMNS
    ", extracted, i)),"
    " held AS (DELETE FROM dropd_claims c USING k WHERE c.holder = $17::text"
    " AND c.pipeline = k.pipeline AND c.rel = k.rel AND c.ino = k.ino AND c.size = k.size"
    " AND c.mtime_ns = k.mtime_ns RETURNING k.*),"
    " up AS (INSERT INTO dropd_jobs (" DROPD_PG_COLUMNS ", holder) SELECT " DROPD_PG_COLUMNS
    ", $17::text FROM held ON CONFLICT (pipeline, rel, ino, size, mtime_ns) DO UPDATE SET"
    " dev = excluded.dev, sha256 = excluded.sha256, state = excluded.state,"
    " attempts = excluded.attempts, last_error = excluded.last_error,"
    " result_path = excluded.result_path, source_moved_to = excluded.source_moved_to,"
    " updated_at = excluded.updated_at, prompt_version = excluded.prompt_version,"
    " holder = excluded.holder RETURNING 1),"
    " cleared AS (DELETE FROM dropd_extract_tries t USING held k WHERE k.extracted"
    " AND t.pipeline = k.pipeline AND t.rel = k.rel AND t.ino = k.ino"
    " AND t.size = k.size AND t.mtime_ns = k.mtime_ns RETURNING 1)"
    " SELECT (i - 1)::bigint FROM held";

constexpr const char* kFindAllSql =
    "SELECT (k.i - 1)::bigint, j.state, j.result_path FROM unnest($2::bytea[], $3::bigint[],"
    " $4::bigint[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS k(rel, dev, ino, size,"
    " mtime_ns, i) JOIN dropd_jobs j ON j.pipeline = $1::text AND j.rel = k.rel"
    " AND j.ino = k.ino AND j.size = k.size AND j.mtime_ns = k.mtime_ns";

constexpr const char* kLatestSql =
    "SELECT state, result_path, source_moved_to, attempts, last_error, updated_at"
    " FROM dropd_jobs WHERE pipeline = $1::text AND rel = $2::bytea ORDER BY updated_at DESC, id "
    "DESC LIMIT 1";

constexpr const char* kPageSql = "SELECT " DROPD_PG_COLUMNS
                                 ", id FROM dropd_jobs WHERE pipeline = $1::text"
                                 " AND id > $2::bigint ORDER BY id LIMIT $3::bigint";

constexpr const char* kForgetSql =
    "WITH d AS (DELETE FROM dropd_jobs WHERE pipeline = $1::text AND (length($2::bytea) = 0"
    " OR rel = $2::bytea OR substr(rel, 1, length($2::bytea) + 1) = $2::bytea || decode('2f',"
    " 'hex')) AND ($3::bigint = 0 OR state = 2)"
    " RETURNING 1) SELECT count(*) FROM d";

constexpr const char* kStatsSql = "SELECT state, count(*) FROM dropd_jobs GROUP BY state";

#undef DROPD_PG_COLUMNS

// The index of the last row of each key only: one statement may not
// upsert a key twice. `of[i]` is the picked index that stands for row i.
struct Picked {
  std::vector<std::size_t> rows;
  std::vector<std::size_t> of;
};

Picked lastOfEachKey(const std::vector<LedgerRow>& rows) {
  std::map<
      std::tuple<std::string_view, std::string_view, std::uint64_t, std::uint64_t, std::int64_t>,
      std::size_t>
      last;
  const auto keyOf = [](const LedgerRow& r) {
    return std::make_tuple(std::string_view(r.pipeline), std::string_view(r.rel), r.identity.ino,
                           r.identity.size, p::mtimeNs(r.identity));
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    last[keyOf(rows[i])] = i;
  }
  Picked out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::size_t stands_for = last[keyOf(rows[i])];
    out.of.push_back(stands_for);
    if (stands_for == i) {
      out.rows.push_back(i);
    }
  }
  return out;
}

std::vector<PgParam> recordParams(const std::vector<LedgerRow>& rows, const Picked& picked) {
  std::array<p::ArrayLiteral, 16> a;
  for (const std::size_t i : picked.rows) {
    const LedgerRow* r = &rows[i];
    a[0].addText(r->pipeline);
    a[1].addBytes(r->rel);
    a[2].addInt(p::bits(r->identity.dev));
    a[3].addInt(p::bits(r->identity.ino));
    a[4].addInt(p::bits(r->identity.size));
    a[5].addInt(p::mtimeNs(r->identity));
    a[6].addText(r->sha256);
    a[7].addInt(static_cast<int>(r->state));
    a[8].addInt(r->attempts);
    a[9].addBytes(r->last_error);
    a[10].addBytes(r->result_path.native());
    a[11].addBytes(r->source_moved_to.native());
    a[12].addInt(r->created_at.time_since_epoch().count());
    a[13].addInt(r->updated_at.time_since_epoch().count());
    a[14].addText(r->prompt_version);
    a[15].addBool(r->extracted);
  }
  std::vector<PgParam> out;
  for (p::ArrayLiteral& literal : a) {
    out.push_back(literal.take());
  }
  return out;
}

LedgerRow readRow(const PgResult& res, int i) {
  LedgerRow row;
  row.pipeline = res.bytesAt(i, 0);
  row.rel = res.bytesAt(i, 1);
  row.identity.dev = std::bit_cast<std::uint64_t>(res.int64At(i, 2));
  row.identity.ino = std::bit_cast<std::uint64_t>(res.int64At(i, 3));
  row.identity.size = std::bit_cast<std::uint64_t>(res.int64At(i, 4));
  row.identity.mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(res.int64At(i, 5))));
  row.sha256 = res.bytesAt(i, 6);
  row.state = static_cast<LedgerState>(res.int64At(i, 7));
  row.attempts = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(res.int64At(i, 8), 0, std::numeric_limits<std::uint32_t>::max()));
  row.last_error = res.bytesAt(i, 9);
  row.result_path = res.bytesAt(i, 10);
  row.source_moved_to = res.bytesAt(i, 11);
  row.created_at = std::chrono::sys_seconds(std::chrono::seconds(res.int64At(i, 12)));
  row.updated_at = std::chrono::sys_seconds(std::chrono::seconds(res.int64At(i, 13)));
  row.prompt_version = res.bytesAt(i, 14);
  return row;
}

}  // namespace

void PgLedgerStore::record(std::vector<LedgerRow> rows, StatusDone done) {
  if (rows.empty()) {
    // Still through the lane, so the callback never runs inside the call.
    run(kWriter, {"dropd_noop", "SELECT 1", {}}, [done = std::move(done)](Result<PgResult> r) {
      done(r ? Status{} : Status{tl::unexpected(std::move(r.error()))});
    });
    return;
  }
  run(kWriter, {"dropd_record", kRecordSql, recordParams(rows, lastOfEachKey(rows))},
      [done = std::move(done)](Result<PgResult> r) {
        done(r ? Status{} : Status{tl::unexpected(std::move(r.error()))});
      });
}

void PgLedgerStore::recordClaimed(std::string holder, std::vector<pipeline::LedgerRow> rows,
                                  Done<std::vector<bool>> done) {
  Picked picked = lastOfEachKey(rows);
  std::vector<PgParam> params = recordParams(rows, picked);
  params.push_back(p::text(holder));
  run(kWriter, {"dropd_record_claimed", kRecordClaimedSql, std::move(params)},
      [picked = std::move(picked), done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        std::vector<bool> picked_written(picked.rows.size(), false);
        for (int i = 0; i < r->rows(); ++i) {
          const auto at = static_cast<std::size_t>(r->int64At(i, 0));
          if (at < picked_written.size()) {
            picked_written[at] = true;
          }
        }
        std::map<std::size_t, bool> by_row;
        for (std::size_t j = 0; j < picked.rows.size(); ++j) {
          by_row[picked.rows[j]] = picked_written[j];
        }
        std::vector<bool> written;
        for (const std::size_t stands_for : picked.of) {
          written.push_back(by_row[stands_for]);
        }
        done(std::move(written));
      });
}

void PgLedgerStore::findAll(std::string pipeline, std::vector<LookupKey> keys,
                            Done<std::vector<std::optional<Finished>>> done) {
  std::array<p::ArrayLiteral, 5> a;
  for (const LookupKey& k : keys) {
    a[0].addBytes(k.rel);
    a[1].addInt(p::bits(k.identity.dev));
    a[2].addInt(p::bits(k.identity.ino));
    a[3].addInt(p::bits(k.identity.size));
    a[4].addInt(p::mtimeNs(k.identity));
  }
  std::vector<PgParam> params{p::text(pipeline)};
  for (p::ArrayLiteral& literal : a) {
    params.push_back(literal.take());
  }
  run(kReader, {"dropd_find_all", kFindAllSql, std::move(params)},
      [n = keys.size(), done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        std::vector<std::optional<Finished>> out(n);
        for (int i = 0; i < r->rows(); ++i) {
          const auto at = static_cast<std::size_t>(r->int64At(i, 0));
          if (at < n) {
            out[at] = Finished{r->int64At(i, 1) == 1, r->bytesAt(i, 2)};
          }
        }
        done(std::move(out));
      });
}

void PgLedgerStore::latest(std::string pipeline, std::string rel,
                           Done<std::optional<History>> done) {
  run(kReader, {"dropd_latest", kLatestSql, {p::text(pipeline), p::bytes(rel)}},
      [done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        if (r->rows() == 0) {
          done(std::optional<History>{});
          return;
        }
        done(std::optional<History>{History{
            r->int64At(0, 0) == 1, r->bytesAt(0, 1), r->bytesAt(0, 2),
            static_cast<std::uint32_t>(r->int64At(0, 3)), r->bytesAt(0, 4), r->int64At(0, 5)}});
      });
}

void PgLedgerStore::forEachRow(std::string pipeline, std::size_t page_rows, PageVisitor visit,
                               StatusDone done) {
  nextPage(std::move(pipeline), 0, std::max<std::size_t>(page_rows, 1), std::move(visit),
           std::move(done));
}

void PgLedgerStore::nextPage(std::string pipeline, std::int64_t after, std::size_t page_rows,
                             PageVisitor visit, StatusDone done) {
  PgQuery query{
      "dropd_page",
      kPageSql,
      {p::text(pipeline), p::int64(after), p::int64(static_cast<std::int64_t>(page_rows))}};
  run(kWriter, std::move(query),
      [this, pipeline = std::move(pipeline), page_rows, visit = std::move(visit),
       done = std::move(done)](Result<PgResult> r) mutable {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        std::vector<LedgerRow> rows;
        std::int64_t last = 0;
        for (int i = 0; i < r->rows(); ++i) {
          rows.push_back(readRow(*r, i));
          last = r->int64At(i, 15);
        }
        const bool end = rows.size() < page_rows;
        if (!rows.empty()) {
          visit(std::move(rows));
        }
        if (end) {
          done({});
          return;
        }
        nextPage(std::move(pipeline), last, page_rows, std::move(visit), std::move(done));
      });
}

void PgLedgerStore::forget(pipeline::ForgetFilter filter, Done<std::size_t> done) {
  std::string_view prefix = filter.rel_prefix;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.remove_suffix(1);
  }
  run(kWriter,
      {"dropd_forget",
       kForgetSql,
       {p::text(filter.pipeline), p::bytes(prefix), p::int64(filter.only_failed ? 1 : 0)}},
      [done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        done(static_cast<std::size_t>(r->int64At(0, 0)));
      });
}

void PgLedgerStore::stats(Done<pipeline::LedgerStats> done) {
  run(kWriter, {"dropd_stats", kStatsSql, {}}, [done = std::move(done)](Result<PgResult> r) {
    if (!r) {
      done(tl::unexpected(std::move(r.error())));
      return;
    }
    pipeline::LedgerStats stats;
    for (int i = 0; i < r->rows(); ++i) {
      const auto n = static_cast<std::size_t>(r->int64At(i, 1));
      if (r->int64At(i, 0) == static_cast<int>(LedgerState::kDone)) {
        stats.done = n;
      } else if (r->int64At(i, 0) == static_cast<int>(LedgerState::kFailed)) {
        stats.failed = n;
      }
    }
    done(stats);
  });
}

}  // namespace dropd::postgres
