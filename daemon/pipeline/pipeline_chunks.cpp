// Pipeline, chunking (docs/chunking.md): a document whose text is over
// chunking.max_tokens goes as a map request per chunk, then reduce
// requests over the answers, in rounds until one is left; that last
// reduce is the job's answer (checked as any, JSON included). One request
// of a job is in flight at a time, each an ordinary request through the
// Dispatcher (throttled, retried and budgeted like any); many documents
// in flight give the concurrency. Each answer is kept in the ledger as it
// comes (LedgerStore::recordChunk), so after a crash or a restart only
// the chunks without one are sent. Bodies are built here on the loop
// thread: a chunk is at most max_tokens (tens of KiB), a small copy next
// to the read that made the text.
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "dropd/pipeline/pipeline.hpp"

namespace dropd::pipeline {

// A job waits here (`parked`) for the write before it to be done.
struct ChunkWrite {
  bool done = false;
  std::unique_ptr<Job> parked;
};

namespace {

constexpr std::string_view kSeparator = config::kChunkAnswerSeparator;

// The answers of a reduce request, joined.
std::string joinGroup(const ChunkRun& run) {
  const std::size_t begin = run.index == 0 ? 0 : run.group_ends[run.index - 1];
  std::string joined;
  for (std::size_t i = begin; i < run.group_ends[run.index]; ++i) {
    if (i > begin) {
      joined += kSeparator;
    }
    joined += run.inputs[i];
  }
  return joined;
}

// The level after a finished one: its answers become the inputs, grouped
// so that each reduce request fits in max_tokens.
void nextLevel(ChunkRun& run, std::uint64_t max_tokens) {
  run.inputs_reused = run.inputs_reused && !run.sent_this_level;
  run.sent_this_level = false;
  run.inputs = std::move(run.answers);
  run.answers.clear();
  if (run.level == 0) {
    run.text = std::string();  // the chunks are answered: the text is not needed again
    run.spans = {};
  }
  ++run.level;
  run.index = 0;
  const std::uint64_t separator = file::estimateTextTokens(kSeparator);
  std::vector<std::uint64_t> tokens;
  tokens.reserve(run.inputs.size());
  for (const std::string& answer : run.inputs) {
    tokens.push_back(file::estimateTextTokens(answer) + separator);
  }
  run.group_ends = file::groupForReduce(tokens, max_tokens);
}

// A request's placeholders: `content` and the whole document's others.
config::TemplateValues templateValues(const Job& job, std::string_view content) {
  const std::size_t slash = job.rel.rfind('/');
  const std::string_view rel = job.rel;
  config::TemplateValues values;
  values.content = content;
  values.filename = slash == std::string::npos ? rel : rel.substr(slash + 1);
  values.path = rel;
  if (job.stats) {
    values.lines = job.stats->lines;
    values.words = job.stats->words;
    values.chars = job.stats->chars;
    values.bytes = job.stats->bytes;
  }
  if (job.extracted) {
    values.title = job.extracted->title;
    values.type = job.extracted->mime;
  }
  return values;
}

}  // namespace

std::unique_ptr<ChunkRun> planChunks(std::string&& text, std::uint64_t tokens,
                                     std::uint64_t max_tokens, std::uint64_t overlap) {
  if (tokens <= max_tokens) {
    return nullptr;
  }
  auto run = std::make_unique<ChunkRun>();
  run->spans = file::splitChunks(text, max_tokens, overlap);
  run->text = std::move(text);
  return run;
}

ChunkKey Pipeline::chunkKey(const Job& job) const {
  return {config_.name, job.stats ? job.stats->sha256 : std::string(), prompt_version_};
}

void Pipeline::startChunks(std::unique_ptr<Job> job) {
  deps_.log.info("job.chunked pipeline={} file={:?} chunks={} tokens={}", config_.name, job->rel,
                 job->chunks->spans.size(), job->stats ? job->stats->estimated_tokens : 0);
  if (deps_.ledger == nullptr || !job->stats) {
    nextChunk(std::move(job));
    return;
  }
  ++chunk_calls_;
  auto holder = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  deps_.ledger->chunkAnswers(chunkKey(**holder),
                             [this, holder](Result<std::vector<ChunkAnswer>> found) {
                               --chunk_calls_;
                               std::unique_ptr<Job> back = std::move(*holder);
                               if (found) {
                                 back->chunks->stored = std::move(*found);
                               } else {
                                 // Not fatal: every chunk is asked for again.
                                 deps_.log.warn("ledger.chunks_failed pipeline={} error={:?}",
                                                config_.name, found.error().message());
                               }
                               nextChunk(std::move(back));
                             });
}

void Pipeline::nextChunk(std::unique_ptr<Job> job) {
  if (!deps_.dispatcher.sending()) {
    // Draining: dropped like the Dispatcher's waiting jobs; the file stays
    // and its answered chunks are in the ledger for the next start.
    job.reset();
    deps_.budget.release();
    return;
  }
  ChunkRun& run = *job->chunks;
  for (;;) {
    const std::size_t count = run.level == 0 ? run.spans.size() : run.group_ends.size();
    if (run.index < count) {
      if (reuseChunk(*job)) {
        continue;
      }
      sendChunk(std::move(job), run.level > 0 && count == 1);
      return;
    }
    nextLevel(run, config_.chunking->max_tokens);
  }
}

bool Pipeline::reuseChunk(Job& job) {
  ChunkRun& run = *job.chunks;
  if (run.level > 0 && !run.inputs_reused) {
    return false;  // its inputs are new answers: an older reduce of others does not count
  }
  const auto level = run.level;
  const auto index = static_cast<std::uint32_t>(run.index);
  const auto it = std::find_if(run.stored.begin(), run.stored.end(), [&](const ChunkAnswer& a) {
    return a.level == level && a.index == index;
  });
  if (it == run.stored.end()) {
    return false;
  }
  run.usage.push_back({level, index, it->prompt_tokens, it->completion_tokens, true});
  job.earlier_usage.prompt_tokens += it->prompt_tokens;
  job.earlier_usage.completion_tokens += it->completion_tokens;
  run.answers.push_back(std::move(it->text));
  ++run.index;
  return true;
}

void Pipeline::sendChunk(std::unique_ptr<Job> job, bool final) {
  ChunkRun& run = *job->chunks;
  std::string joined;
  std::string_view content;
  if (run.level == 0) {
    const file::TextSpan span = run.spans[run.index];
    content = std::string_view(run.text).substr(span.offset, span.size);
  } else {
    joined = joinGroup(run);
    content = joined;
  }
  const llm::RequestBuilder& builder = run.level == 0 ? *map_builder_
                                       : final        ? *final_builder_
                                                      : *reduce_builder_;
  job->request_content = JobRequestContent{file::estimateTextTokens(content), content.size()};
  job->body = std::make_shared<const std::string>(builder.build(templateValues(*job, content)));
  deps_.log.debug("job.chunk pipeline={} file={:?} level={} index={} tokens={}", config_.name,
                  job->rel, run.level, run.index, job->request_content->tokens);
  if (final) {
    if (config_.output_format == config::OutputFormat::kJson) {
      job->sent_body = job->body;  // for a corrective follow-up (pipeline_json.cpp)
    }
    run.usage.push_back({run.level, 0, 0, 0, false});  // its usage comes with the answer
    deps_.dispatcher.submit(std::move(job),
                            [this](std::unique_ptr<Job> done) { onAnswered(std::move(done)); });
    return;
  }
  deps_.dispatcher.submit(std::move(job),
                          [this](std::unique_ptr<Job> done) { onChunkAnswered(std::move(done)); });
}

void Pipeline::onChunkAnswered(std::unique_ptr<Job> job) {
  ChunkRun& run = *job->chunks;
  if (!job->completion) {
    if (job->failure) {
      job->failure->message = fmt::format(
          "{} {} of {}: {}", run.level == 0 ? "chunk" : "reduce", run.index + 1,
          run.level == 0 ? run.spans.size() : run.group_ends.size(), job->failure->message);
    }
    onAnswered(std::move(job));  // the file fails
    return;
  }
  const llm::Usage usage = job->completion->usage;
  ChunkAnswer answer{run.level, static_cast<std::uint32_t>(run.index),
                     std::move(job->completion->content), usage.prompt_tokens,
                     usage.completion_tokens};
  job->completion.reset();
  job->earlier_attempts += job->attempts;
  job->attempts = 0;  // the Dispatcher's retry count is per request
  job->earlier_usage.prompt_tokens += usage.prompt_tokens;
  job->earlier_usage.completion_tokens += usage.completion_tokens;
  run.usage.push_back(
      {answer.level, answer.index, usage.prompt_tokens, usage.completion_tokens, false});
  run.answers.push_back(answer.text);
  run.sent_this_level = true;
  ++run.index;
  if (writeChunk(job, std::move(answer))) {
    return;  // waiting for the write before
  }
  nextChunk(std::move(job));
}

bool Pipeline::writeChunk(std::unique_ptr<Job>& job, ChunkAnswer answer) {
  if (deps_.ledger == nullptr || !job->stats) {
    return false;
  }
  ChunkRun& run = *job->chunks;
  // Written on the ledger's own connection while the next request goes;
  // the one after it waits for this write (ChunkRun::write). A failure
  // only means this chunk is asked for again after a restart.
  auto write = std::make_shared<ChunkWrite>();
  ++chunk_calls_;
  deps_.ledger->recordChunk(chunkKey(*job), std::move(answer), [this, write](Status st) {
    --chunk_calls_;
    if (!st) {
      deps_.log.warn("ledger.chunk_record_failed pipeline={} error={:?}", config_.name,
                     st.error().message());
    }
    write->done = true;
    if (write->parked) {
      nextChunk(std::move(write->parked));
    }
  });
  const std::shared_ptr<ChunkWrite> before = std::exchange(run.write, std::move(write));
  if (before && !before->done) {
    before->parked = std::move(job);
    return true;
  }
  return false;
}

void Pipeline::endChunks(const Job& job) {
  if (deps_.ledger == nullptr || !job.stats) {
    return;
  }
  ++chunk_calls_;
  deps_.ledger->forgetChunks(chunkKey(job), [this](Result<std::size_t> forgot) {
    --chunk_calls_;
    if (!forgot) {
      deps_.log.warn("ledger.chunk_forget_failed pipeline={} error={:?}", config_.name,
                     forgot.error().message());
    }
  });
}

}  // namespace dropd::pipeline
