// PgLedgerStore: opening, the schema's versions and their migration under
// an advisory lock. The calls themselves are in pg_ledger_store.cpp.
#include <libpq-fe.h>

#include <array>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "dropd/postgres/pg_ledger_store.hpp"

namespace dropd::postgres {
namespace {

// Schema v1: the finished rows and the extraction tries, as SQLite's v3
// holds them (ledger.cpp), with three differences. Tables are prefixed
// dropd_ (the database may hold other programs' tables). Paths, rel and
// last_error are bytea: a file name need not be UTF-8. Every integer is a
// bigint, so results decode one way. Append new steps; never edit one.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE dropd_jobs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pipeline        text   NOT NULL,
  rel             bytea  NOT NULL,
  dev             bigint NOT NULL,
  ino             bigint NOT NULL,
  size            bigint NOT NULL,
  mtime_ns        bigint NOT NULL,
  sha256          text   NOT NULL,
  state           bigint NOT NULL CHECK (state IN (1, 2)),
  attempts        bigint NOT NULL,
  last_error      bytea  NOT NULL,
  result_path     bytea  NOT NULL,
  source_moved_to bytea  NOT NULL,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL,
  UNIQUE (pipeline, rel, dev, ino, size, mtime_ns)
);
CREATE TABLE dropd_extract_tries (
  pipeline   text   NOT NULL,
  rel        bytea  NOT NULL,
  dev        bigint NOT NULL,
  ino        bigint NOT NULL,
  size       bigint NOT NULL,
  mtime_ns   bigint NOT NULL,
  tries      bigint NOT NULL,
  last_error bytea  NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (pipeline, rel, dev, ino, size, mtime_ns)
);
)sql";

// Schema v2: claims of jobs in flight (docs/ledger.md). expires_at is the
// server's time (now() + lease), so hosts' clock skew never matters.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE dropd_claims (
  pipeline   text        NOT NULL,
  rel        bytea       NOT NULL,
  dev        bigint      NOT NULL,
  ino        bigint      NOT NULL,
  size       bigint      NOT NULL,
  mtime_ns   bigint      NOT NULL,
  holder     text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (pipeline, rel, dev, ino, size, mtime_ns)
);
)sql";

// Schema v3: fleet mode (docs/fleet.md). A file version's key is the same
// on every host: (pipeline, rel, ino, size, mtime_ns). `dev` is the
// client's number for a mount (an NFS mount's differs between hosts), so
// it is kept as information but left out of every key; rows that only dev
// told apart keep the newest. Each row names the instance that recorded it
// (`holder`: host:pid:start; '' before v3), and each claim since when it is
// held.
constexpr std::string_view kSchemaV3 = R"sql(
DELETE FROM dropd_jobs a USING dropd_jobs b WHERE a.pipeline = b.pipeline AND a.rel = b.rel
  AND a.ino = b.ino AND a.size = b.size AND a.mtime_ns = b.mtime_ns AND a.id < b.id;
ALTER TABLE dropd_jobs DROP CONSTRAINT dropd_jobs_pipeline_rel_dev_ino_size_mtime_ns_key;
ALTER TABLE dropd_jobs ADD CONSTRAINT dropd_jobs_key UNIQUE (pipeline, rel, ino, size, mtime_ns);
ALTER TABLE dropd_jobs ADD COLUMN holder text NOT NULL DEFAULT '';
DELETE FROM dropd_extract_tries a USING dropd_extract_tries b WHERE a.pipeline = b.pipeline
  AND a.rel = b.rel AND a.ino = b.ino AND a.size = b.size AND a.mtime_ns = b.mtime_ns
  AND a.ctid < b.ctid;
ALTER TABLE dropd_extract_tries DROP CONSTRAINT dropd_extract_tries_pkey;
ALTER TABLE dropd_extract_tries ADD PRIMARY KEY (pipeline, rel, ino, size, mtime_ns);
DELETE FROM dropd_claims;
ALTER TABLE dropd_claims DROP CONSTRAINT dropd_claims_pkey;
ALTER TABLE dropd_claims ADD PRIMARY KEY (pipeline, rel, ino, size, mtime_ns);
ALTER TABLE dropd_claims ADD COLUMN since timestamptz NOT NULL DEFAULT now();
)sql";

// Schema v4: the prompt version a done row's result was made under, as
// SQLite's v4 (ledger.cpp); '' for rows from before.
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE dropd_jobs ADD COLUMN prompt_version text NOT NULL DEFAULT '';
)sql";

// Schema v5: the fleet's live instances (docs/fleet.md, "Shared endpoint
// limits"). Each instance marks its row every lease/3 (the server's clock)
// and splits its endpoints' limits by the rows seen within a lease.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE dropd_instances (
  holder  text        PRIMARY KEY,
  seen_at timestamptz NOT NULL
);
)sql";

// The answers of long documents' chunks (issue 15, pg_chunks.cpp,
// docs/chunking.md), as SQLite's v5 holds them; the answer is bytea (text
// refuses a NUL). Its own step, so that it can follow whatever step comes
// before it when branches meet.
constexpr std::string_view kSchemaChunks = R"sql(
CREATE TABLE dropd_chunks (
  pipeline          text   NOT NULL,
  sha256            text   NOT NULL,
  prompt_version    text   NOT NULL,
  level             bigint NOT NULL,
  idx               bigint NOT NULL,
  answer            bytea  NOT NULL,
  prompt_tokens     bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  updated_at        bigint NOT NULL,
  PRIMARY KEY (pipeline, sha256, prompt_version, level, idx)
);
)sql";

constexpr std::array<std::string_view, 6> kMigrations = {kSchemaV1, kSchemaV2, kSchemaV3,
                                                         kSchemaV4, kSchemaV5, kSchemaChunks};

// "drpd" then 1: the lock every dropd takes to migrate.
constexpr std::int64_t kMigrationLock = 7237971125936848897;

// One simple query, so one implicit transaction: the lock (held to its
// end), the version table, then in a DO block the missing steps and the
// new version, or an exception that names a newer schema. Run twice (a
// connection lost mid-way) it does nothing the second time.
std::string migrationSql(std::span<const std::string_view> steps) {
  std::string sql = fmt::format(
      "SELECT pg_advisory_xact_lock({});\n"
      "CREATE TABLE IF NOT EXISTS dropd_schema (version integer NOT NULL);\n"
      "DO $dropd$\nDECLARE v integer;\nBEGIN\n"
      "SELECT coalesce(max(version), 0) INTO v FROM dropd_schema;\n"
      "IF v > {} THEN RAISE EXCEPTION 'the ledger''s schema in this database is version %, "
      "newer than this dropd''s ({}): upgrade dropd on this host', v; END IF;\n",
      kMigrationLock, steps.size(), steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    sql += fmt::format("IF v < {} THEN\n{}\nEND IF;\n", i + 1, steps[i]);
  }
  sql += fmt::format(
      "IF v < {0} THEN DELETE FROM dropd_schema; INSERT INTO dropd_schema VALUES ({0}); END IF;\n"
      "END\n$dropd$;",
      steps.size());
  return sql;
}

// host:port/dbname (and the user) from the url, for logs: never the password.
Result<std::string> describeTarget(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? err : "out of memory";
    PQfreemem(err);
    while (!why.empty() && why.back() == '\n') {
      why.pop_back();
    }
    return makeError(ErrorCode::kInvalid, "ledger.url is not a libpq connection string: " + why);
  }
  std::string host = "local socket";
  std::string port;
  std::string dbname;
  std::string user;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) {
      continue;
    }
    const std::string_view key = o->keyword;
    if (key == "host" || (key == "hostaddr" && host == "local socket")) {
      host = o->val;
    } else if (key == "port") {
      port = o->val;
    } else if (key == "dbname") {
      dbname = o->val;
    } else if (key == "user") {
      user = o->val;
    }
  }
  PQconninfoFree(opts);
  return fmt::format("postgres://{}{}{}{}/{}", user, user.empty() ? "" : "@", host,
                     port.empty() ? "" : ":" + port, dbname);
}

}  // namespace

int PgLedgerStore::schemaVersion() { return static_cast<int>(kMigrations.size()); }

std::span<const std::string_view> PgLedgerStore::migrationsForTest() { return kMigrations; }

Result<std::unique_ptr<PgLedgerStore>> PgLedgerStore::open(uv_loop_t& loop, spdlog::logger& log,
                                                           const PgLedgerOptions& options,
                                                           ReadyFn ready) {
  return openWithMigrationsForTest(loop, log, options, std::move(ready), kMigrations);
}

Result<std::unique_ptr<PgLedgerStore>> PgLedgerStore::openWithMigrationsForTest(
    uv_loop_t& loop, spdlog::logger& log, const PgLedgerOptions& options, ReadyFn ready,
    std::span<const std::string_view> migrations) {
  auto where = describeTarget(options.url);
  if (!where) {
    return tl::unexpected(std::move(where.error()));
  }
  // dbname first with expand_dbname: the url's own settings, then ours on top.
  PgTarget target{
      {"dbname", "client_encoding", "application_name"}, {options.url, "UTF8", "dropd"}, *where};
  if (options.password) {
    target.keys.emplace_back("password");
    target.values.push_back(*options.password);
  }
  std::vector<std::unique_ptr<PgLane>> lanes;
  for (const char* name : {"writer", "reader", "tries"}) {
    auto lane = PgLane::create(loop, target, log, name);
    if (!lane) {
      return tl::unexpected(std::move(lane.error()));
    }
    lanes.push_back(std::move(*lane));
  }
  std::unique_ptr<PgLedgerStore> store(new PgLedgerStore(*where, std::move(lanes)));
  store->migrate(migrations, std::move(ready));
  return store;
}

PgLedgerStore::PgLedgerStore(std::string where, std::vector<std::unique_ptr<PgLane>> lanes)
    : where_(std::move(where)), lanes_(std::move(lanes)) {}

PgLedgerStore::~PgLedgerStore() = default;

void PgLedgerStore::migrate(std::span<const std::string_view> migrations, ReadyFn ready) {
  lanes_[kWriter]->run(PgQuery{"", migrationSql(migrations), {}},
                       [this, ready = std::move(ready)](Result<PgResult> done) {
                         if (!done) {
                           ready(tl::unexpected(std::move(done.error())));
                           return;
                         }
                         ready_ = true;
                         auto parked = std::move(parked_);
                         parked_.clear();
                         for (auto& call : parked) {
                           call();
                         }
                         ready({});
                       });
}

bool PgLedgerStore::busy() const {
  if (!parked_.empty()) {
    return true;
  }
  for (const auto& lane : lanes_) {
    if (lane->busy()) {
      return true;
    }
  }
  return false;
}

std::string PgLedgerStore::unreachable() const {
  for (const auto& lane : lanes_) {
    if (!lane->downReason().empty()) {
      return lane->downReason();  // its errors name where_ already
    }
  }
  return {};
}

int PgLedgerStore::reconnectsForTest() const {
  int n = 0;
  for (const auto& lane : lanes_) {
    n += lane->reconnectsForTest();
  }
  return n;
}

void PgLedgerStore::run(Lane lane, PgQuery query, PgLane::ResultFn done) {
  if (!ready_) {
    parked_.push_back([this, lane, query = std::move(query), done = std::move(done)]() mutable {
      lanes_[lane]->run(std::move(query), std::move(done));
    });
    return;
  }
  lanes_[lane]->run(std::move(query), std::move(done));
}

}  // namespace dropd::postgres
