#include "dropd/pipeline/records.hpp"

#include <ctime>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "dropd/base/utf8_decode.hpp"

namespace dropd::pipeline {
namespace {

using nlohmann::ordered_json;

bool isUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  return base::decodeUtf8(p, text.size()).invalid_bytes == 0;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

ordered_json sourceJson(const Job& job) {
  // JSON holds only UTF-8: a name that is not (a Windows share's, an old
  // archive's) is written with U+FFFD for each bad byte, and exactly, as
  // base64, beside it, so a program can still find its file.
  ordered_json source = {{"path", job.rel}};
  if (!isUtf8(job.rel)) {
    source["path_base64"] = base64(job.rel);
  }
  source["size"] = job.identity.size;
  if (job.identity.ino != 0) {
    source["mtime"] = isoUtc(job.identity.mtime);
  }
  if (job.stats) {
    source["sha256"] = job.stats->sha256;  // of the source's bytes, extracted or not
  }
  if (job.extracted && !job.extracted->mime.empty()) {
    source["type"] = job.extracted->mime;
  }
  return source;
}

ordered_json statsJson(const file::Stats& s) {
  return {{"bytes", s.bytes},           {"lines", s.lines},
          {"words", s.words},           {"chars", s.chars},
          {"utf8_valid", s.utf8_valid}, {"estimated_tokens", s.estimated_tokens}};
}

// What was sent instead of the file's bytes (docs/extract.md).
ordered_json extractJson(const Job::Extracted& e) {
  return {{"method", e.method},
          {"pages", e.pages},
          {"chars", e.chars},
          {"truncated", e.truncated},
          {"ocr", e.ocr}};
}

// chunking: every request of the map/reduce, in order; the last is the
// final reduce, whose usage is the answer's (docs/chunking.md).
ordered_json chunksJson(const ChunkRun& run, const llm::Completion* last) {
  ordered_json list = ordered_json::array();
  for (std::size_t i = 0; i < run.usage.size(); ++i) {
    const ChunkUsage& u = run.usage[i];
    const bool final = i + 1 == run.usage.size() && last != nullptr;
    list.push_back(
        {{"level", u.level},
         {"index", u.index},
         {"prompt_tokens", final ? last->usage.prompt_tokens : u.prompt_tokens},
         {"completion_tokens", final ? last->usage.completion_tokens : u.completion_tokens},
         {"reused", u.reused}});
  }
  return list;
}

std::string dump(const ordered_json& doc, int indent) {
  return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string isoUtc(WallTime time) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buf, n);
}

std::string recordOwner(const Job& job) { return dump(sourceJson(job), -1); }

std::string renderResult(const Job& job, const RecordContext& ctx) {
  ordered_json llm = {{"endpoint", ctx.endpoint}, {"model", ctx.model}};
  if (job.completion) {
    llm["content"] = job.completion->content;
    if (job.json) {
      llm["json"] = *job.json;  // output.format json: the value found in the content
    }
    llm["finish_reason"] = job.completion->finish_reason;
    // With repairs or chunks, what every request of the job cost together
    // (chunks answered before a restart included).
    llm["usage"] = {
        {"prompt_tokens", job.earlier_usage.prompt_tokens + job.completion->usage.prompt_tokens},
        {"completion_tokens",
         job.earlier_usage.completion_tokens + job.completion->usage.completion_tokens}};
    if (job.completion->usage_estimated) {
      llm["usage_estimated"] = true;  // a stream without a usage chunk (send_estimate.hpp)
    }
  }
  if (job.chunks && job.completion) {
    llm["chunks"] = chunksJson(*job.chunks, &*job.completion);
  }
  llm["attempts"] = job.requestsSent();
  if (job.json) {
    llm["repairs"] = job.repairs;
  }
  llm["latency_ms"] = job.latency.count();
  if (job.completion && job.completion->ttft) {
    llm["ttft_ms"] = job.completion->ttft->count();  // streamed answers only
  }
  ordered_json doc = {{"source", sourceJson(job)}};
  if (job.stats) {
    doc["stats"] = statsJson(*job.stats);
  }
  if (job.extracted && !job.extracted->method.empty()) {
    doc["extract"] = extractJson(*job.extracted);
  }
  doc["pipeline"] = ctx.pipeline;
  doc["prompt_version"] = ctx.prompt_version;
  if (job.duplicate_of) {
    doc["duplicate_of"] = job.duplicate_of->string();  // no request was sent for this one
  } else {
    doc["llm"] = std::move(llm);
  }
  doc["processed_at"] = isoUtc(ctx.now);
  return dump(doc, 2) + "\n";
}

std::string renderErrorRecord(const Job& job, const RecordContext& ctx) {
  ordered_json error = {{"kind", "unknown"}, {"message", ""}};
  if (job.failure) {
    error["kind"] = toString(job.failure->kind);
    error["message"] = job.failure->message;
    if (job.failure->http_status != 0) {
      error["http_status"] = job.failure->http_status;
    }
  }
  error["attempts"] = job.requestsSent();
  if (job.repairs > 0) {
    error["repairs"] = job.repairs;
  }
  ordered_json doc = {{"source", sourceJson(job)}};
  if (job.stats) {
    doc["stats"] = statsJson(*job.stats);
  }
  doc["pipeline"] = ctx.pipeline;
  doc["error"] = std::move(error);
  doc["processed_at"] = isoUtc(ctx.now);
  return dump(doc, 2) + "\n";
}

}  // namespace dropd::pipeline
