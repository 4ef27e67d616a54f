// Pipeline, reading: the read on the threadpool (stats and request body
// built there too) and what its outcome means for the job.
#include <algorithm>

#include "dropd/pipeline/document_sniff.hpp"
#include "dropd/pipeline/pipeline.hpp"
#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {
namespace {

using std::chrono::milliseconds;

struct ReadIn {
  file::ReadRequest request;
  std::shared_ptr<const llm::RequestBuilder> builder;
  std::string rel;
  bool send_binary = false;
  bool extract = false;              // not text: extracted by dropd-extract instead of skipped
  std::vector<std::string> formats;  // extract.formats (empty: all), for HTML and e-mail
  std::optional<file::FileIdentity> kept;  // finished earlier and kept in place (no ledger)
  std::string pipeline;
  std::string record_rel;
  std::optional<config::Chunking> chunking;  // max_tokens and overlap: a long text is chunked
};

struct ReadOut {
  file::ReadOutcome outcome;  // content moved out into the body
  std::shared_ptr<const std::string> body;
  std::unique_ptr<ChunkRun> chunks;  // instead of `body`: a text over chunking.max_tokens
  bool unchanged_since_kept = false;
  bool binary = false;
  bool to_extract = false;                        // binary and the pipeline extracts: no body
  std::optional<file::FileIdentity> finished_as;  // this version has a ledger row...
  LedgerLookup::Finished finished;                // ...which says this
  std::string lookup_error;                       // the look-up failed: nothing was read
  bool held_elsewhere = false;  // fleet: another instance holds the file, nothing was read
};

// Threadpool: was this version finished before and kept in place
// unchanged? True if so: nothing is to be read. `now` gets the file's
// identity, for the ledger's look-up (unset if it could not be read: the
// read says what is wrong).
bool keptUnchanged(const ReadIn& in, ReadOut& out, std::optional<file::FileIdentity>* now) {
  if (!in.kept && now == nullptr) {
    return false;
  }
  file::FileIdentity identity;
  std::string ignored;
  if (file::statFile(in.request.path, identity, ignored) != file::ReadStatus::kOk) {
    return false;
  }
  if (in.kept && identity == *in.kept) {
    out.unchanged_since_kept = true;
    return true;
  }
  if (now != nullptr) {
    *now = identity;
  }
  return false;
}

// Text that is an HTML page or an e-mail goes to dropd-extract too, when
// the pipeline accepts that format (else it is sent as text, as before). A
// PDF whose bytes happen to be text always does: its syntax is never what
// anyone meant to send, so a pipeline that does not accept PDFs skips it
// as it skips a binary one.
bool extractsText(const ReadIn& in, std::string_view content) {
  const TextKind kind = sniffText(content);
  if (kind == TextKind::kPlain) {
    return false;
  }
  if (kind == TextKind::kPdf) {
    return true;
  }
  return in.formats.empty() ||
         std::find(in.formats.begin(), in.formats.end(), formatOf(kind)) != in.formats.end();
}

// Threadpool: read, measure, and build the request body, so the loop thread
// never touches the file's bytes. The raw content is freed here; only the
// body travels on.
Result<ReadOut> readAndBuild(ReadIn in) {
  ReadOut out;
  if (keptUnchanged(in, out, nullptr)) {
    return out;
  }
  out.outcome = file::readWhole(in.request);
  if (out.outcome.status != file::ReadStatus::kOk) {
    return out;
  }
  out.binary = file::looksBinary(out.outcome.stats);
  out.to_extract = in.extract && (out.binary || extractsText(in, out.outcome.content));
  if (!out.to_extract && (!out.binary || in.send_binary) && in.chunking) {
    out.chunks = planChunks(std::move(out.outcome.content), out.outcome.stats.estimated_tokens,
                            in.chunking->max_tokens, in.chunking->overlap);
    if (out.chunks) {
      return out;
    }
  }
  if (!out.to_extract && (!out.binary || in.send_binary)) {
    const file::Stats& s = out.outcome.stats;
    const std::size_t slash = in.rel.rfind('/');
    config::TemplateValues values;
    values.content = out.outcome.content;
    const std::string_view rel = in.rel;  // a view: substr must not make a temporary
    values.filename = slash == std::string::npos ? rel : rel.substr(slash + 1);
    values.path = in.rel;
    values.lines = s.lines;
    values.words = s.words;
    values.chars = s.chars;
    values.bytes = s.bytes;
    out.body = std::make_shared<const std::string>(in.builder->build(values));
  }
  out.outcome.content = {};
  return out;
}

// The same file version as the ledger keys it (dev left out: it differs
// between hosts).
bool sameVersion(const file::FileIdentity& a, const file::FileIdentity& b) {
  return a.ino == b.ino && a.size == b.size && a.mtime == b.mtime;
}

}  // namespace

struct Pipeline::ReadDone {
  ReadIn in;
  ReadOut out;
  bool decided = false;                   // the ledger's look-up settled it: nothing is read
  std::optional<file::FileIdentity> now;  // the identity the ledger is asked about
};

void Pipeline::startRead(Intake::Pending pending) {
  auto job = newJob(pending);
  job->state = JobState::kReading;  // the known entry's state, taken over (Intake::next)
  ReadDone read{
      {{job->path, config_.max_file_size_bytes,
        deps_.clock.wallNow() - std::chrono::duration_cast<WallTime::duration>(config_.settle),
        pending.seen},
       builder_,
       pending.rel,
       config_.binary == config::BinaryPolicy::kSend,
       config_.extract.has_value(),
       config_.extract ? config_.extract->formats : std::vector<std::string>{},
       std::nullopt,
       config_.name,
       job->rel,
       config_.chunking},
      {},
      false,
      std::nullopt};
  // A binary file's bytes are sent only with `binary: send` and no
  // `extract:` (dropd-extract reads the file itself): else they are measured
  // and dropped as they are read.
  read.in.request.keep_binary = read.in.send_binary && !read.in.extract;
  if (const Finished* kept = finished_.find(job->rel); kept != nullptr) {
    read.in.kept = kept->identity;
  }
  deps_.budget.acquire();
  ++reads_running_;
  auto holder = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  // Fleet mode always claims (on the identity a stat gives) and looks up
  // after the claim: another instance may have finished it since the scan.
  if ((pending.ledger_checked && deps_.claims == nullptr) || deps_.ledger == nullptr) {
    queueRead(holder, pending, std::move(read));
    return;
  }
  // The ledger's word first: the file's identity (pool), then its row.
  const Status queued = uv::queueWork<ReadDone, ReadDone>(
      deps_.loop, std::move(read),
      [](ReadDone statted) -> Result<ReadDone> {  // pool: the file's identity now
        statted.decided = keptUnchanged(statted.in, statted.out, &statted.now);
        statted.in.kept.reset();  // checked
        return statted;
      },
      [this, holder, pending](Result<ReadDone> statted) {
        DROPD_CHECK(statted.has_value(), "stat work cancelled");
        if (statted->decided || !statted->now) {
          afterLookUp(holder, pending, std::move(*statted));
          return;
        }
        if (deps_.claims != nullptr) {
          claimFirst(holder, pending, std::move(*statted));
          return;
        }
        lookUp(holder, pending, std::move(*statted));
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for a stat");
}

void Pipeline::lookUp(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
                      ReadDone read) {
  const std::string record_rel = read.in.record_rel;
  const file::FileIdentity now = *read.now;
  auto held = std::make_shared<ReadDone>(std::move(read));
  deps_.ledger->findAll(
      config_.name, {{record_rel, now}},
      [this, job, pending, held](Result<std::vector<std::optional<LedgerStore::Finished>>> found) {
        ReadDone& looked = *held;
        if (!found) {
          looked.out.lookup_error = found.error().message();
          looked.decided = true;
        } else if (!found->empty() && found->front()) {
          looked.out.finished_as = looked.now;
          looked.out.finished = std::move(*found->front());
          looked.decided = true;
        }
        afterLookUp(job, pending, std::move(looked));
      });
}

void Pipeline::claimFirst(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
                          ReadDone read) {
  const file::FileIdentity as = *read.now;
  auto held = std::make_shared<ReadDone>(std::move(read));
  deps_.claims->claim({config_.name, (*job)->rel, as},
                      [this, job, pending, held, as](Result<Claims::Claimed> got) {
                        ReadDone& claimed = *held;
                        if (!got) {
                          claimed.out.lookup_error = got.error().message();
                          claimed.decided = true;
                        } else if (!got->held) {
                          claimed.out.held_elsewhere = true;
                          claimed.decided = true;
                        } else {
                          (*job)->claimed = true;
                          (*job)->claimed_as = as;
                          if (got->finished) {  // finished by another instance since the scan
                            claimed.out.finished_as = as;
                            claimed.out.finished = std::move(*got->finished);
                            claimed.decided = true;
                          }
                        }
                        afterLookUp(job, pending, std::move(claimed));
                      });
}

void Pipeline::afterLookUp(std::shared_ptr<std::unique_ptr<Job>> job,
                           const Intake::Pending& pending, ReadDone looked) {
  if (looked.decided) {
    readEnded(std::move(*job), pending, std::move(looked));
  } else {
    queueRead(std::move(job), pending, std::move(looked));
  }
}

void Pipeline::queueRead(std::shared_ptr<std::unique_ptr<Job>> job, const Intake::Pending& pending,
                         ReadDone read) {
  const Status queued = uv::queueWork<ReadIn, ReadOut>(
      deps_.loop, std::move(read.in), readAndBuild, [this, job, pending](Result<ReadOut> out) {
        DROPD_CHECK(out.has_value(), "read work cancelled");
        readEnded(std::move(*job), pending, ReadDone{{}, std::move(*out), false, std::nullopt});
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for a read");
}

void Pipeline::readEnded(std::unique_ptr<Job> job, const Intake::Pending& pending, ReadDone out) {
  --reads_running_;
  if (!onReadDone(std::move(job), pending, std::move(out))) {
    deps_.budget.release();  // no body went on to the Dispatcher
  }
}

bool Pipeline::onReadDone(std::unique_ptr<Job> job, const Intake::Pending& pending, ReadDone done) {
  ReadOut& out = done.out;
  if (out.held_elsewhere) {
    job->handBack();
    intake_.heldElsewhere(pending);
    return false;
  }
  // Fleet mode: the claim is of the version a stat saw; another one read
  // (saved again in between) is read again later, under its own claim.
  const bool other_version = job->claimed && out.outcome.status == file::ReadStatus::kOk &&
                             !sameVersion(out.outcome.identity, job->claimed_as);
  if (out.unchanged_since_kept || out.finished_as || !out.lookup_error.empty() ||
      (pending.recheck && out.outcome.status == file::ReadStatus::kVanished) ||
      out.outcome.status == file::ReadStatus::kUnsettled ||
      out.outcome.status == file::ReadStatus::kChanged || other_version) {
    endClaim(*job, /*recorded=*/false);  // no record will follow
  }
  if (out.unchanged_since_kept) {
    job->moveTo(JobState::kForgotten, "finished before, unchanged");
    intake_.jobOver(job->rel);
  } else if (out.finished_as) {
    // Finished before (a rescan raced its commit, or a crash cut off its
    // move): never sent again.
    job->moveTo(JobState::kForgotten, "finished before");
    intake_.finishedBefore(pending,
                           {*out.finished_as, out.finished.done, out.finished.result_path});
  } else if (pending.recheck && out.outcome.status == file::ReadStatus::kVanished) {
    job->moveTo(JobState::kForgotten, "vanished");
    intake_.jobOver(job->rel);  // nothing new was there
  } else if (!out.lookup_error.empty()) {
    deps_.log.error("ledger.lookup_failed pipeline={} file={:?} error={:?} retry_in_ms={}",
                    config_.name, job->rel, out.lookup_error,
                    milliseconds(Intake::kPollInterval).count());
    job->handBack();
    intake_.lookUpAgain(pending);
  } else if (out.outcome.status == file::ReadStatus::kUnsettled ||
             out.outcome.status == file::ReadStatus::kChanged || other_version) {
    job->handBack();
    intake_.settleAgain(pending, out.outcome.identity);  // still being written
  } else {
    job->body = std::move(out.body);
    job->chunks = std::move(out.chunks);
    const bool to_extract = out.to_extract;
    return onRead(std::move(job), std::move(out.outcome), to_extract);
  }
  return false;
}

bool Pipeline::onRead(std::unique_ptr<Job> job, file::ReadOutcome outcome, bool to_extract) {
  using file::ReadStatus;
  job->identity = outcome.identity;
  switch (outcome.status) {
    case ReadStatus::kOk:
      break;
    case ReadStatus::kVanished:
      endClaim(*job, /*recorded=*/false);
      deps_.log.info("job.vanished pipeline={} file={:?}", config_.name, job->rel);
      job->moveTo(JobState::kForgotten, "vanished");
      intake_.jobOver(job->rel);
      return false;
    case ReadStatus::kTooLarge:
      failJob(std::move(job), llm::FailureKind::kSkipped,
              fmt::format("file is {} bytes, over max_file_size ({} bytes)", outcome.identity.size,
                          config_.max_file_size_bytes));
      return false;
    case ReadStatus::kNotRegular:
      failJob(std::move(job), llm::FailureKind::kSkipped,
              "not a regular file (symlinks are never followed)");
      return false;
    default:
      failJob(std::move(job), llm::FailureKind::kRead, outcome.error);
      return false;
  }
  counters_.bytes_read += outcome.stats.bytes;
  job->stats = std::move(outcome.stats);
  if (to_extract && !duplicate(*job)) {
    startExtract(std::move(job), {});
    return true;  // its room is held until its text is sent or it fails
  }
  if (!job->body && !job->chunks && !to_extract) {
    failJob(std::move(job), llm::FailureKind::kSkipped,
            "binary file (a NUL byte or mostly invalid UTF-8); "
            "set binary: send to send such files");
    return false;
  }
  if (duplicate(*job)) {
    if (auto earlier = finished_.duplicateOf(job->stats->sha256); earlier) {
      job->duplicate_of = std::move(*earlier);
      job->body.reset();
      job->chunks.reset();
      commit(std::move(job), /*success=*/true);
      return false;
    }
  }
  if (job->chunks) {
    startChunks(std::move(job));
    return true;  // its room is held until the last reduce is answered
  }
  if (config_.output_format == config::OutputFormat::kJson) {
    job->sent_body = job->body;  // for a corrective follow-up (pipeline_json.cpp)
  }
  deps_.dispatcher.submit(std::move(job),
                          [this](std::unique_ptr<Job> done) { onAnswered(std::move(done)); });
  return true;
}

}  // namespace dropd::pipeline
