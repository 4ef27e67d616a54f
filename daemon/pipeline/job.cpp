#include "dropd/pipeline/job.hpp"

namespace dropd::pipeline {

std::string_view toString(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kReading:
      return "reading";
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
  }
  return "unknown";
}

}  // namespace dropd::pipeline
