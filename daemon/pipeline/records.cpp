#include "dropd/pipeline/records.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

namespace dropd::pipeline {
namespace {

using nlohmann::ordered_json;

ordered_json sourceJson(const Job& job) {
  ordered_json source = {{"path", job.rel}, {"size", job.identity.size}};
  if (job.identity.ino != 0) {
    source["mtime"] = isoUtc(job.identity.mtime);
  }
  if (job.stats) {
    source["sha256"] = job.stats->sha256;
  }
  return source;
}

ordered_json statsJson(const file::Stats& s) {
  return {{"bytes", s.bytes},           {"lines", s.lines},
          {"words", s.words},           {"chars", s.chars},
          {"utf8_valid", s.utf8_valid}, {"estimated_tokens", s.estimated_tokens}};
}

std::string dump(const ordered_json& doc) {
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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

std::string recordOwner(const Job& job) { return sourceJson(job).dump(); }

std::string renderResult(const Job& job, const RecordContext& ctx) {
  ordered_json llm = {{"endpoint", ctx.endpoint}, {"model", ctx.model}};
  if (job.completion) {
    llm["content"] = job.completion->content;
    llm["finish_reason"] = job.completion->finish_reason;
    llm["usage"] = {{"prompt_tokens", job.completion->usage.prompt_tokens},
                    {"completion_tokens", job.completion->usage.completion_tokens}};
  }
  llm["attempts"] = job.attempts;
  llm["latency_ms"] = job.latency.count();
  ordered_json doc = {{"source", sourceJson(job)}};
  if (job.stats) {
    doc["stats"] = statsJson(*job.stats);
  }
  doc["pipeline"] = ctx.pipeline;
  if (job.duplicate_of) {
    doc["duplicate_of"] = job.duplicate_of->string();  // no request was sent for this one
  } else {
    doc["llm"] = std::move(llm);
  }
  doc["processed_at"] = isoUtc(ctx.now);
  return dump(doc);
}

std::string renderErrorRecord(const Job& job, const RecordContext& ctx) {
  ordered_json error = {{"kind", "unknown"}, {"message", ""}};
  if (job.failure) {
    error["kind"] = job.failure->kind;
    error["message"] = job.failure->message;
    if (job.failure->http_status != 0) {
      error["http_status"] = job.failure->http_status;
    }
  }
  error["attempts"] = job.attempts;
  ordered_json doc = {{"source", sourceJson(job)}};
  if (job.stats) {
    doc["stats"] = statsJson(*job.stats);
  }
  doc["pipeline"] = ctx.pipeline;
  doc["error"] = std::move(error);
  doc["processed_at"] = isoUtc(ctx.now);
  return dump(doc);
}

}  // namespace dropd::pipeline
