// Pipeline, JSON output (output.format json, docs/structured.md): the
// answer's JSON value found and checked against the schema; a corrective
// follow-up when it fails, as an ordinary request through the Dispatcher
// (so throttled like any); invalid_output once output.max_repairs are used.
// The check runs on the loop thread: an answer is bounded by the endpoint's
// response cap and is small next to the document that was sent.
#include <fmt/format.h>

#include "dropd/config/json_schema.hpp"
#include "dropd/llm/json_answer.hpp"
#include "dropd/pipeline/pipeline.hpp"

namespace dropd::pipeline {
namespace {

// The schema errors quoted in a repair prompt and an error record.
constexpr std::size_t kMaxProblemBytes = 1000;

}  // namespace

bool Pipeline::checkJsonAnswer(std::unique_ptr<Job>& job) {
  llm::JsonAnswer answer = llm::extractJsonAnswer(job->completion->content);
  std::string problem = answer.ok ? std::string() : answer.error;
  if (answer.ok && config_.output_schema) {
    const auto errors = config_.output_schema->compiled->validate(answer.value);
    if (!errors.empty()) {
      problem =
          "it does not match the schema: " + config::formatSchemaErrors(errors, kMaxProblemBytes);
    }
  }
  if (problem.empty()) {
    job->json = std::move(answer.value);
    return true;
  }
  if (job->repairs < config_.max_repairs && job->sent_body) {
    if (!deps_.dispatcher.sending()) {
      // Draining: the job is dropped like the Dispatcher's waiting ones; its
      // file stays where it is and is sent again at the next start.
      job.reset();
      deps_.budget.release();
      return false;
    }
    std::string body = llm::repairBody(*job->sent_body, job->completion->content, problem);
    if (!body.empty()) {
      sendRepair(std::move(job), std::move(body), problem);
      return false;
    }
  }
  deps_.log.debug("job.invalid_output pipeline={} file={:?} problem={:?}", config_.name, job->rel,
                  problem);
  job->completion.reset();
  job->failure = llm::Failure{llm::FailureClass::kFailFile, llm::FailureKind::kInvalidOutput, 0,
                              fmt::format("no valid JSON after {} repair{}: {}", job->repairs,
                                          job->repairs == 1 ? "" : "s", problem)};
  return true;
}

void Pipeline::sendRepair(std::unique_ptr<Job> job, std::string body, const std::string& problem) {
  ++job->repairs;
  job->earlier_attempts += job->attempts;
  job->attempts = 0;  // the Dispatcher's retry count is per request
  job->earlier_usage.prompt_tokens += job->completion->usage.prompt_tokens;
  job->earlier_usage.completion_tokens += job->completion->usage.completion_tokens;
  job->completion.reset();
  deps_.log.info("job.repair pipeline={} file={:?} repair={} problem={:?}", config_.name, job->rel,
                 job->repairs, problem);
  job->sent_body = std::make_shared<const std::string>(std::move(body));
  job->body = job->sent_body;
  deps_.dispatcher.submit(std::move(job),
                          [this](std::unique_ptr<Job> done) { onAnswered(std::move(done)); });
}

}  // namespace dropd::pipeline
