// Pipeline, extracting: a file that is not text goes to a dropd-extract
// helper (ExtractorPool) after its try is counted in the ledger, and its
// text is sent in place of its bytes (docs/extract.md).
#include <fmt/format.h>

#include "dropd/file/stats.hpp"
#include "dropd/pipeline/pipeline.hpp"
#include "dropd/uv/check.hpp"
#include "dropd/uv/work.hpp"

namespace dropd::pipeline {
namespace {

using Kind = ExtractOutcome::Kind;

struct BodyIn {
  std::shared_ptr<const llm::RequestBuilder> builder;
  std::string rel;
  extract::Document doc;
  std::string source_sha256;
  std::optional<config::Chunking> chunking;
};

struct BodyOut {
  std::shared_ptr<const std::string> body;
  file::Stats stats;
  std::unique_ptr<ChunkRun> chunks;  // instead of `body`: a text over chunking.max_tokens
};

// Threadpool: stats of the text and the request body, as a read does for
// a text file. The source's sha256 stays (dedupe and the record's source).
Result<BodyOut> buildBody(BodyIn in) {
  BodyOut out;
  out.stats = file::computeStats(std::as_bytes(std::span(in.doc.text.data(), in.doc.text.size())));
  out.stats.sha256 = std::move(in.source_sha256);
  if (in.chunking) {
    out.chunks = planChunks(std::move(in.doc.text), out.stats.estimated_tokens,
                            in.chunking->max_tokens, in.chunking->overlap);
    if (out.chunks) {
      return out;
    }
  }
  const std::size_t slash = in.rel.rfind('/');
  const std::string_view rel = in.rel;
  config::TemplateValues values;
  values.content = in.doc.text;
  values.filename = slash == std::string::npos ? rel : rel.substr(slash + 1);
  values.path = in.rel;
  values.lines = out.stats.lines;
  values.words = out.stats.words;
  values.chars = out.stats.chars;
  values.bytes = out.stats.bytes;
  values.title = in.doc.title;
  values.type = in.doc.mime;
  out.body = std::make_shared<const std::string>(in.builder->build(values));
  return out;
}

std::string triesMessage(std::uint32_t tries, const std::string& last) {
  return fmt::format("crashed the extractor {} times (last: {})", tries,
                     last.empty() ? "unknown" : last);
}

}  // namespace

ExtractTries::Key Pipeline::triesKey(const Job& job) const {
  return {config_.name, job.rel, job.identity};
}

void Pipeline::startExtract(std::unique_ptr<Job> job, std::string last_error) {
  if (job->state == JobState::kReading) {
    job->moveTo(JobState::kExtracting, "not text");
  }
  const std::uint32_t max_tries = config_.extract->max_tries;
  if (deps_.ledger == nullptr) {  // no ledger: this run's tries only
    if (job->extract_tries >= max_tries) {
      failExtract(std::move(job), llm::FailureKind::kExtract,
                  triesMessage(job->extract_tries, last_error));
      return;
    }
    ++job->extract_tries;
    sendToExtractor(std::move(job));
    return;
  }
  ++extract_works_;
  auto holder = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  // The ledger's word on one more try, durable before the helper sees the file.
  deps_.ledger->beginTry(
      triesKey(**holder), max_tries, std::move(last_error),
      [this, holder](Result<ExtractTries::Try> counted) {
        --extract_works_;
        std::unique_ptr<Job> counted_job = std::move(*holder);
        if (!counted) {
          deps_.log.error("ledger.extract_tries_failed pipeline={} file={:?} error={:?}",
                          config_.name, counted_job->rel, counted.error().message());
          failExtract(std::move(counted_job), llm::FailureKind::kExtract,
                      "cannot count the extraction in the ledger: " + counted.error().message());
        } else if (!counted->allowed) {
          counted_job->extract_tried = true;  // its row goes with the error record
          failExtract(std::move(counted_job), llm::FailureKind::kExtract,
                      triesMessage(counted->tries, counted->last_error));
        } else {
          counted_job->extract_tried = true;
          sendToExtractor(std::move(counted_job));
        }
      });
}

void Pipeline::sendToExtractor(std::unique_ptr<Job> job) {
  const config::Extract& e = *config_.extract;
  extract::Options options{e.max_pages, e.max_chars, e.ocr, e.ocr_languages, e.formats};
  auto holder = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  extractor_->submit((*holder)->path.string(), std::move(options),
                     [this, holder](ExtractOutcome outcome) {
                       onExtracted(std::move(*holder), std::move(outcome));
                     });
}

void Pipeline::onExtracted(std::unique_ptr<Job> job, ExtractOutcome outcome) {
  switch (outcome.kind) {
    case Kind::kReply:
      break;
    case Kind::kCrashed:  // perhaps not the file's fault (killed, OOM): another try
      deps_.log.info("extract.retry pipeline={} file={:?} reason={:?}", config_.name, job->rel,
                     outcome.reason);
      startExtract(std::move(job), std::move(outcome.reason));
      return;
    case Kind::kTimedOut:  // a hang is the file's: another try would cost as much again
    case Kind::kUnavailable:
      failExtract(std::move(job), llm::FailureKind::kExtract, std::move(outcome.reason));
      return;
    case Kind::kStopped:
      dropExtract(std::move(job));
      return;
  }
  if (auto* doc = std::get_if<extract::Document>(&outcome.reply->answer)) {
    onDocument(std::move(job), std::move(*doc));
    return;
  }
  auto& failure = std::get<extract::Failure>(outcome.reply->answer);
  job->extracted.emplace();
  job->extracted->mime = std::move(failure.mime);
  failExtract(std::move(job),
              failure.kind == extract::FailureKind::kSkipped ? llm::FailureKind::kSkipped
                                                             : llm::FailureKind::kExtract,
              std::move(failure.reason));
}

void Pipeline::onDocument(std::unique_ptr<Job> job, extract::Document doc) {
  job->extracted =
      Job::Extracted{doc.mime, doc.method, doc.title, doc.pages, doc.chars, doc.truncated, doc.ocr};
  BodyIn in{builder_, job->rel, std::move(doc), job->stats ? job->stats->sha256 : std::string(),
            config_.chunking};
  ++extract_works_;
  auto holder = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  const Status queued = uv::queueWork<BodyIn, BodyOut>(
      deps_.loop, std::move(in), buildBody, [this, holder](Result<BodyOut> built) {
        --extract_works_;
        DROPD_CHECK(built.has_value(), "body work cancelled");
        std::unique_ptr<Job> built_job = std::move(*holder);
        built_job->stats = std::move(built->stats);
        built_job->body = std::move(built->body);
        if (built->chunks) {
          built_job->chunks = std::move(built->chunks);
          startChunks(std::move(built_job));
          return;
        }
        deps_.dispatcher.submit(std::move(built_job),
                                [this](std::unique_ptr<Job> done) { onAnswered(std::move(done)); });
      });
  DROPD_CHECK(queued.has_value(), "uv_queue_work for an extracted body");
}

void Pipeline::failExtract(std::unique_ptr<Job> job, llm::FailureKind kind, std::string message) {
  failJob(std::move(job), kind, std::move(message));
  deps_.budget.release();  // it never reached the Dispatcher
}

void Pipeline::dropExtract(std::unique_ptr<Job> job) {
  if (job->extract_tried && deps_.ledger != nullptr) {
    // Stopping is not the file's fault: the try it had begun is taken back.
    ++extract_works_;
    deps_.ledger->undoTry(triesKey(*job), [this](Status undone) {
      --extract_works_;
      if (!undone) {
        deps_.log.warn("ledger.extract_tries_failed pipeline={} error={:?}", config_.name,
                       undone.error().message());
      }
    });
  }
  endClaim(*job, /*recorded=*/false);
  const std::string rel = job->rel;
  job->moveTo(JobState::kForgotten, "stopping while extracting");
  job.reset();
  deps_.budget.release();
  intake_.jobOver(rel);
}

}  // namespace dropd::pipeline
