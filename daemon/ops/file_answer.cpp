#include "ops/file_answer.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "ops/status_render.hpp"
#include "ops/waiting_on.hpp"

namespace dropd::ops {
namespace {

using nlohmann::ordered_json;
using pipeline::JobState;

const config::Pipeline* configOf(const StatusParts& parts, std::string_view name) {
  for (const config::Pipeline& p : parts.config.pipelines) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

// " until 15:01:02.345Z (in 3.2 s)", or "" without a time.
std::string untilText(const std::optional<MonoTime>& until, const Clock& clock,
                      std::string_view word = "until") {
  if (!until) {
    return "";
  }
  const double in_s = std::max(0.0, std::chrono::duration<double>(*until - clock.now()).count());
  return fmt::format(" {} {} (in {:.1f} s)", word, rfc3339(wallTimeOf(*until, clock)), in_s);
}

std::string withDetail(std::string_view detail) {
  return detail.empty() ? "" : fmt::format(": {}", detail);
}

// The "waits on" half of a live job's sentence.
std::string waitSentence(const WaitingOn& w, const pipeline::Dispatcher* d,
                         std::string_view endpoint, const Clock& clock) {
  const std::string until = untilText(w.until, clock);
  if (w.what == "settle") {
    return "is settling: dropd waits until it stops changing" + until;
  }
  if (w.what == "read_budget") {
    return fmt::format(
        "is queued to be read: endpoint {} has as many files read ahead as it may hold", endpoint);
  }
  if (w.what == "slot") {
    return d == nullptr ? "waits for a free request slot"
                        : fmt::format(
                              "waits for a free request slot on endpoint {} ({} of {} "
                              "in flight)",
                              endpoint, d->inFlight(), d->concurrencyLimit());
  }
  if (w.what == "rpm") {
    return fmt::format("waits on endpoint {}'s requests-per-minute limit{}", endpoint, until);
  }
  if (w.what == "tpm") {
    return fmt::format("waits on endpoint {}'s tokens-per-minute limit{}", endpoint, until);
  }
  if (w.what == "retry_after") {
    return fmt::format("waits: endpoint {} asked for a pause (Retry-After){}{}", endpoint, until,
                       withDetail(w.detail));
  }
  if (w.what == "breaker") {
    return fmt::format("waits: endpoint {}'s circuit breaker is open after failures{}{}", endpoint,
                       until, withDetail(w.detail));
  }
  if (w.what == "pause") {
    return fmt::format("waits: endpoint {} is paused{}{}; nothing is sent to it until then",
                       endpoint, withDetail(w.detail), until);
  }
  if (w.what == "backoff") {
    const std::string at = untilText(w.until, clock, "at");
    return fmt::format("is in backoff after a failed attempt{}; it is sent again{}",
                       withDetail(w.detail), at.empty() ? " soon" : at);
  }
  return "";
}

std::string busySentence(JobState state, std::string_view endpoint, std::uint32_t attempts) {
  switch (state) {
    case JobState::kReading:
      return "is being read";
    case JobState::kExtracting:
      return "is being extracted by dropd-extract";
    case JobState::kSending:
      return fmt::format("is being sent to endpoint {} (attempt {})", endpoint, attempts);
    case JobState::kWriting:
      return "is having its result written";
    default:
      return fmt::format("is {}", pipeline::toString(state));
  }
}

ordered_json liveAnswer(const LiveJob& job, const StatusParts& parts, std::string_view pipeline,
                        std::string_view rel) {
  const WaitingOn w = waitingOn(job, parts, pipeline, rel, true);
  const config::Pipeline* cfg = configOf(parts, pipeline);
  const std::string endpoint = cfg == nullptr ? "" : cfg->endpoint;
  const std::string what =
      w.what == "none" ? busySentence(job.state, endpoint, job.attempts)
                       : waitSentence(w, dispatcherOf(parts, pipeline), endpoint, parts.clock);
  std::string sentence = fmt::format("{} {}.", rel, what);
  // A backoff's or a pause's detail already is the last error.
  if (!job.last_error.empty() && w.what != "backoff" && w.detail != job.last_error &&
      w.what != "pause") {
    sentence += fmt::format(" Its last attempt failed: {}.", job.last_error);
  }
  return {
      {"pipeline", pipeline},
      {"path", rel},
      {"endpoint", endpoint},
      {"state", pipeline::toString(job.state)},
      {"since", rfc3339(job.since)},
      {"waiting_on",
       {{"what", w.what},
        {"until", w.until ? ordered_json(rfc3339(wallTimeOf(*w.until, parts.clock)))
                          : ordered_json(nullptr)},
        {"detail", w.detail}}},
      {"attempts", job.attempts},
      {"last_error", job.last_error.empty() ? ordered_json(nullptr) : ordered_json(job.last_error)},
      {"ledger", nullptr},
      {"sentence", sentence}};
}

}  // namespace

std::optional<ordered_json> liveFileAnswer(const StatusModel& model, const StatusParts& parts,
                                           const FileAsk& ask) {
  for (const config::Pipeline& p : parts.config.pipelines) {
    if (!ask.pipeline.empty() && p.name != ask.pipeline) {
      continue;
    }
    const PipelineTally* tally = model.pipeline(p.name);
    if (tally == nullptr) {
      continue;
    }
    if (const auto it = tally->jobs.find(ask.rel); it != tally->jobs.end()) {
      return liveAnswer(it->second, parts, p.name, ask.rel);
    }
  }
  return std::nullopt;
}

ordered_json finishedFileAnswer(std::string_view pipeline, std::string_view rel,
                                const pipeline::LedgerLookup::History& row) {
  const std::string at = rfc3339(WallTime{std::chrono::seconds{row.updated_at}});
  const std::string result = row.result_path.string();
  std::string sentence =
      row.done ? fmt::format("{} is done: its result {} was written at {}.", rel, result, at)
               : fmt::format(
                     "{} failed after {} attempt{}: {}. Its error record is {} ({}); "
                     "`dropd requeue` sends it again.",
                     rel, row.attempts, row.attempts == 1 ? "" : "s", row.last_error, result, at);
  return {
      {"pipeline", pipeline},
      {"path", rel},
      {"state", row.done ? "done" : "failed"},
      {"since", at},
      {"waiting_on", {{"what", "none"}, {"until", nullptr}, {"detail", ""}}},
      {"attempts", row.attempts},
      {"last_error", row.last_error.empty() ? ordered_json(nullptr) : ordered_json(row.last_error)},
      {"ledger",
       {{"outcome", row.done ? "done" : "failed"},
        {"at", at},
        {"result", result},
        {"source_moved_to",
         row.source_moved_to.empty() ? ordered_json(nullptr) : ordered_json(row.source_moved_to)}}},
      {"sentence", std::move(sentence)}};
}

ordered_json unknownFileAnswer(const StatusParts& parts, const FileAsk& ask,
                               std::string_view error) {
  const bool known_pipeline = ask.pipeline.empty() || configOf(parts, ask.pipeline) != nullptr;
  const std::string where =
      ask.pipeline.empty() ? "any pipeline" : fmt::format("pipeline {}", ask.pipeline);
  std::string sentence =
      !known_pipeline
          ? fmt::format("There is no pipeline named {}.", ask.pipeline)
          : fmt::format(
                "{} is unknown to {}: no job holds it and the ledger has no row of it "
                "(not seen yet, left out by include/exclude, or not in a watched folder).",
                ask.rel, where);
  if (!error.empty()) {
    sentence += fmt::format(" The ledger could not be read: {}.", error);
  }
  return {{"pipeline", ask.pipeline.empty() ? ordered_json(nullptr) : ordered_json(ask.pipeline)},
          {"path", ask.rel},
          {"state", "unknown"},
          {"ledger", nullptr},
          {"sentence", std::move(sentence)}};
}

}  // namespace dropd::ops
