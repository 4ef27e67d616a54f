#include "dropd/pipeline/job_events.hpp"

#include <string>

#include <fmt/format.h>

#include "dropd/uv/check.hpp"

namespace dropd::pipeline {

bool allowedTransition(JobState from, JobState to) {
  using S = JobState;
  if (isTerminal(from)) {
    return false;
  }
  if (to == S::kForgotten) {
    return true;  // vanished, finished before, or dropped at stop: from any stage
  }
  switch (from) {
    case S::kDiscovered:  // settle first, or read at once, or (recovery) move the source
      return to == S::kSettling || to == S::kQueued || to == S::kWriting;
    case S::kSettling:
      return to == S::kQueued;
    case S::kQueued:
      return to == S::kReading;
    // Still being written; sent; not text, so extracted; or skipped, failed, a duplicate.
    case S::kReading:
      return to == S::kSettling || to == S::kWaiting || to == S::kExtracting || to == S::kWriting;
    case S::kExtracting:  // its text is sent; or the extraction failed or was skipped
      return to == S::kWaiting || to == S::kWriting;
    case S::kWaiting:
      return to == S::kSending;
    case S::kSending:  // retry later; the endpoint paused (not the file's fault); answered
      return to == S::kBackoff || to == S::kWaiting || to == S::kWriting;
    case S::kBackoff:
      return to == S::kWaiting;
    case S::kWriting:  // a result that cannot be written turns into an error record
      return to == S::kWriting || to == S::kDone || to == S::kFailed || to == S::kSkipped;
    default:
      return false;
  }
}

void JobEvents::move(JobEvents* events, JobState& state, JobPath path, JobState to,
                     std::string_view reason, const Job* job) {
  const JobState from = state;
  if (!allowedTransition(from, to)) {
    const std::string what = fmt::format("job state change not allowed: {} -> {} ({}, {:?})",
                                         toString(from), toString(to), reason, path.rel);
    DROPD_CHECK(allowedTransition(from, to), what.c_str());
  }
  state = to;
  if (events == nullptr || events->listeners_.empty()) {
    return;
  }
  const JobEvent event{path.pipeline, path.rel, from, to, events->clock_.wallNow(), reason, job};
  for (const Listener& listener : events->listeners_) {
    listener(event);
  }
}

}  // namespace dropd::pipeline
