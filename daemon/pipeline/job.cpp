#include "dropd/pipeline/job.hpp"

#include "dropd/pipeline/job_events.hpp"

namespace dropd::pipeline {

std::string_view toString(JobState state) {
  switch (state) {
    case JobState::kDiscovered:
      return "discovered";
    case JobState::kSettling:
      return "settling";
    case JobState::kQueued:
      return "queued";
    case JobState::kReading:
      return "reading";
    case JobState::kExtracting:
      return "extracting";
    case JobState::kWaiting:
      return "waiting";
    case JobState::kSending:
      return "sending";
    case JobState::kBackoff:
      return "backoff";
    case JobState::kWriting:
      return "writing";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
    case JobState::kSkipped:
      return "skipped";
    case JobState::kForgotten:
      return "forgotten";
  }
  return "unknown";
}

bool isTerminal(JobState state) {
  return state == JobState::kDone || state == JobState::kFailed || state == JobState::kSkipped ||
         state == JobState::kForgotten;
}

Job::~Job() {
  if (!handed_back_ && !isTerminal(state)) {
    moveTo(JobState::kForgotten, "dropped");
  }
}

void Job::moveTo(JobState to, std::string_view reason) {
  JobEvents::move(events, state, {pipeline_name, rel}, to, reason, this);
}

}  // namespace dropd::pipeline
