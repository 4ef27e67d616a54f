// PgLedgerStore: long documents' chunk answers (docs/chunking.md), on the
// tries lane: one statement per answer, as SQLite's ChunkAnswers.
#include <chrono>
#include <utility>

#include "dropd/postgres/pg_ledger_store.hpp"

#include "pg_params.hpp"

namespace dropd::postgres {
namespace {

namespace p = params;

#define DROPD_PG_CHUNK_KEY \
  " pipeline = $1::text AND sha256 = $2::text AND prompt_version = $3::text"

constexpr const char* kLoadSql =
    "SELECT level, idx, answer, prompt_tokens, completion_tokens FROM dropd_chunks"
    " WHERE" DROPD_PG_CHUNK_KEY " ORDER BY level, idx";

constexpr const char* kRecordSql =
    "INSERT INTO dropd_chunks VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint,"
    " $6::bytea, $7::bigint, $8::bigint, $9::bigint)"
    " ON CONFLICT (pipeline, sha256, prompt_version, level, idx) DO UPDATE SET"
    " answer = excluded.answer, prompt_tokens = excluded.prompt_tokens,"
    " completion_tokens = excluded.completion_tokens, updated_at = excluded.updated_at";

constexpr const char* kForgetSql = "WITH d AS (DELETE FROM dropd_chunks WHERE" DROPD_PG_CHUNK_KEY
                                   " RETURNING 1) SELECT count(*) FROM d";

#undef DROPD_PG_CHUNK_KEY

std::vector<PgParam> keyParams(const pipeline::ChunkKey& key) {
  return {p::text(key.pipeline), p::text(key.sha256), p::text(key.prompt_version)};
}

}  // namespace

void PgLedgerStore::chunkAnswers(pipeline::ChunkKey key,
                                 Done<std::vector<pipeline::ChunkAnswer>> done) {
  run(kTries, {"dropd_chunk_answers", kLoadSql, keyParams(key)},
      [done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        std::vector<pipeline::ChunkAnswer> out;
        for (int row = 0; row < r->rows(); ++row) {
          out.push_back({static_cast<std::uint32_t>(r->int64At(row, 0)),
                         static_cast<std::uint32_t>(r->int64At(row, 1)), r->bytesAt(row, 2),
                         static_cast<std::uint64_t>(r->int64At(row, 3)),
                         static_cast<std::uint64_t>(r->int64At(row, 4))});
        }
        done(std::move(out));
      });
}

void PgLedgerStore::recordChunk(pipeline::ChunkKey key, pipeline::ChunkAnswer answer,
                                StatusDone done) {
  std::vector<PgParam> params = keyParams(key);
  params.push_back(p::int64(answer.level));
  params.push_back(p::int64(answer.index));
  params.push_back(p::bytes(answer.text));
  params.push_back(p::int64(p::bits(answer.prompt_tokens)));
  params.push_back(p::int64(p::bits(answer.completion_tokens)));
  params.push_back(p::int64(p::unixNow()));
  run(kTries, {"dropd_record_chunk", kRecordSql, std::move(params)},
      [done = std::move(done)](Result<PgResult> r) {
        done(r ? Status{} : Status{tl::unexpected(std::move(r.error()))});
      });
}

void PgLedgerStore::forgetChunks(pipeline::ChunkKey key, Done<std::size_t> done) {
  run(kTries, {"dropd_forget_chunks", kForgetSql, keyParams(key)},
      [done = std::move(done)](Result<PgResult> r) {
        if (!r) {
          done(tl::unexpected(std::move(r.error())));
          return;
        }
        done(static_cast<std::size_t>(r->int64At(0, 0)));
      });
}

}  // namespace dropd::postgres
