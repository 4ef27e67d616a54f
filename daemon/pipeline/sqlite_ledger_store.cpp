// SqliteLedgerStore: each LedgerStore call as one threadpool work on the
// connection it needs (lent_connection.hpp).
#include "dropd/pipeline/sqlite_ledger_store.hpp"

#include <utility>

#include "dropd/uv/work.hpp"

#include "lent_connection.hpp"

namespace dropd::pipeline {

namespace detail {

struct SqliteLanes {
  SqliteLanes(uv_loop_t& loop, std::unique_ptr<Ledger> ledger, std::unique_ptr<LedgerLookup> lookup,
              std::unique_ptr<ExtractTries> counts, std::unique_ptr<ChunkAnswers> answers)
      : path(ledger->path()),
        writer(loop, std::move(ledger)),
        reader(loop, std::move(lookup)),
        tries(loop, std::move(counts)),
        chunks(loop, std::move(answers)) {}
  const std::filesystem::path path;
  LentConnection<Ledger> writer;
  LentConnection<LedgerLookup> reader;
  LentConnection<ExtractTries> tries;
  LentConnection<ChunkAnswers> chunks;
};

}  // namespace detail

Result<std::unique_ptr<SqliteLedgerStore>> SqliteLedgerStore::open(
    uv_loop_t& loop, const std::filesystem::path& state_dir) {
  auto writer = Ledger::open(state_dir);
  if (!writer) {
    return tl::unexpected(std::move(writer.error()));
  }
  auto reader = LedgerLookup::open((*writer)->path());
  if (!reader) {
    return tl::unexpected(std::move(reader.error()));
  }
  auto tries = ExtractTries::open((*writer)->path());
  if (!tries) {
    return tl::unexpected(std::move(tries.error()));
  }
  auto chunks = ChunkAnswers::open((*writer)->path());
  if (!chunks) {
    return tl::unexpected(std::move(chunks.error()));
  }
  return std::unique_ptr<SqliteLedgerStore>(
      new SqliteLedgerStore(std::make_unique<detail::SqliteLanes>(
          loop, std::move(*writer), std::move(*reader), std::move(*tries), std::move(*chunks))));
}

SqliteLedgerStore::SqliteLedgerStore(std::unique_ptr<detail::SqliteLanes> lanes)
    : lanes_(std::move(lanes)) {}

SqliteLedgerStore::~SqliteLedgerStore() = default;

std::string SqliteLedgerStore::where() const { return lanes_->path.string(); }

Ledger* SqliteLedgerStore::writerWhileIdle() const { return lanes_->writer.idle(); }

bool SqliteLedgerStore::busy() const {
  return lanes_->writer.busy() || lanes_->reader.busy() || lanes_->tries.busy() ||
         lanes_->chunks.busy();
}

void SqliteLedgerStore::record(std::vector<LedgerRow> rows, StatusDone done) {
  lanes_->writer.run<Status>([rows = std::move(rows)](Ledger& l) { return l.record(rows); },
                             std::move(done));
}

void SqliteLedgerStore::findAll(std::string pipeline, std::vector<LookupKey> keys,
                                Done<std::vector<std::optional<Finished>>> done) {
  lanes_->reader.run<Result<std::vector<std::optional<Finished>>>>(
      [pipeline = std::move(pipeline), keys = std::move(keys)](LedgerLookup& l) {
        return l.findAll(pipeline, keys);
      },
      std::move(done));
}

void SqliteLedgerStore::latest(std::string pipeline, std::string rel,
                               Done<std::optional<History>> done) {
  lanes_->reader.run<Result<std::optional<History>>>(
      [pipeline = std::move(pipeline), rel = std::move(rel)](LedgerLookup& l) {
        return l.latest(pipeline, rel);
      },
      std::move(done));
}

void SqliteLedgerStore::forEachRow(std::string pipeline, std::size_t page_rows, PageVisitor visit,
                                   StatusDone done) {
  nextPage(std::move(pipeline), 0, page_rows == 0 ? 1 : page_rows, std::move(visit),
           std::move(done));
}

void SqliteLedgerStore::nextPage(std::string pipeline, std::int64_t after, std::size_t page_rows,
                                 PageVisitor visit, StatusDone done) {
  struct Page {
    Result<std::vector<LedgerRow>> rows;
    std::int64_t after = 0;
  };
  lanes_->writer.run<Page>(
      [pipeline, after, page_rows](Ledger& l) {
        std::int64_t next = after;
        auto rows = l.loadPage(pipeline, next, page_rows);
        return Page{std::move(rows), next};
      },
      [this, pipeline, page_rows, visit = std::move(visit),
       done = std::move(done)](Page page) mutable {
        if (!page.rows) {
          done(tl::unexpected(std::move(page.rows.error())));
          return;
        }
        const bool last = page.rows->size() < page_rows;
        if (!page.rows->empty()) {
          visit(std::move(*page.rows));
        }
        if (last) {
          done({});
          return;
        }
        nextPage(std::move(pipeline), page.after, page_rows, std::move(visit), std::move(done));
      });
}

void SqliteLedgerStore::forget(ForgetFilter filter, Done<std::size_t> done) {
  lanes_->writer.run<Result<std::size_t>>(
      [filter = std::move(filter)](Ledger& l) { return l.forget(filter); }, std::move(done));
}

void SqliteLedgerStore::stats(Done<LedgerStats> done) {
  lanes_->writer.run<Result<LedgerStats>>([](Ledger& l) { return l.stats(); }, std::move(done));
}

void SqliteLedgerStore::beginTry(TryKey key, std::uint32_t max_tries, std::string last_error,
                                 Done<Try> done) {
  lanes_->tries.run<Result<Try>>(
      [key = std::move(key), max_tries, last_error = std::move(last_error)](ExtractTries& t) {
        return t.begin(key, max_tries, last_error);
      },
      std::move(done));
}

void SqliteLedgerStore::undoTry(TryKey key, StatusDone done) {
  lanes_->tries.run<Status>([key = std::move(key)](ExtractTries& t) { return t.undo(key); },
                            std::move(done));
}

void SqliteLedgerStore::countTries(TryKey key, Done<std::uint32_t> done) {
  lanes_->tries.run<Result<std::uint32_t>>(
      [key = std::move(key)](ExtractTries& t) { return t.count(key); }, std::move(done));
}

// One host needs no claims: every one is granted. The answer still takes
// a trip through the pool, so it never comes inside the call.
void SqliteLedgerStore::claim(std::string /*holder*/, std::vector<TryKey> keys,
                              std::chrono::seconds /*lease*/, Done<std::vector<bool>> done) {
  lanes_->tries.run<Result<std::vector<bool>>>(
      [n = keys.size()](ExtractTries&) {
        return Result<std::vector<bool>>(std::vector<bool>(n, true));
      },
      std::move(done));
}

void SqliteLedgerStore::renew(std::string holder, std::vector<TryKey> keys,
                              std::chrono::seconds lease, Done<std::vector<bool>> done) {
  claim(std::move(holder), std::move(keys), lease, std::move(done));
}

void SqliteLedgerStore::release(std::string /*holder*/, std::vector<TryKey> /*keys*/,
                                StatusDone done) {
  lanes_->tries.run<Status>([](ExtractTries&) { return Status{}; }, std::move(done));
}

// One host is a fleet of one.
void SqliteLedgerStore::heartbeat(std::string /*holder*/, std::chrono::seconds /*lease*/,
                                  Done<std::uint32_t> done) {
  lanes_->tries.run<Result<std::uint32_t>>([](ExtractTries&) { return Result<std::uint32_t>(1); },
                                           std::move(done));
}

void SqliteLedgerStore::leave(std::string /*holder*/, StatusDone done) {
  lanes_->tries.run<Status>([](ExtractTries&) { return Status{}; }, std::move(done));
}

// One host holds every claim: every row is written.
void SqliteLedgerStore::recordClaimed(std::string /*holder*/, std::vector<LedgerRow> rows,
                                      Done<std::vector<bool>> done) {
  const std::size_t n = rows.size();
  record(std::move(rows), [n, done = std::move(done)](Status st) {
    if (!st) {
      done(tl::unexpected(std::move(st.error())));
      return;
    }
    done(std::vector<bool>(n, true));
  });
}

void SqliteLedgerStore::chunkAnswers(ChunkKey key, Done<std::vector<ChunkAnswer>> done) {
  lanes_->chunks.run<Result<std::vector<ChunkAnswer>>>(
      [key = std::move(key)](ChunkAnswers& c) { return c.load(key); }, std::move(done));
}

void SqliteLedgerStore::recordChunk(ChunkKey key, ChunkAnswer answer, StatusDone done) {
  lanes_->chunks.run<Status>([key = std::move(key), answer = std::move(answer)](
                                 ChunkAnswers& c) { return c.record(key, answer); },
                             std::move(done));
}

void SqliteLedgerStore::forgetChunks(ChunkKey key, Done<std::size_t> done) {
  lanes_->chunks.run<Result<std::size_t>>(
      [key = std::move(key)](ChunkAnswers& c) { return c.forget(key); }, std::move(done));
}

}  // namespace dropd::pipeline
