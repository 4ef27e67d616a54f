#pragma once

// Who wants to know when a file's job changes state (the status server,
// /events, `dropd status FILE`), and the one function through which every
// change of a job's state goes: move() checks it against the table of
// allowed transitions (allowedTransition(); a forbidden one is a bug:
// DROPD_CHECK) and tells each listener.
//
// Owned by ops (one for the daemon, kept across reloads) and handed to the
// pipelines in their Deps; it must outlive every Job and every listener's
// subscription. Loop thread only; listeners run synchronously inside
// move() and must not move the same job again.

#include <functional>
#include <string_view>
#include <vector>

#include "dropd/base/clock.hpp"
#include "dropd/pipeline/job.hpp"

namespace dropd::pipeline {

struct JobEvent {
  std::string_view pipeline;  // the pipeline's name
  std::string_view rel;       // the record rel (Job::rel)
  JobState from;
  JobState to;
  WallTime at;
  std::string_view reason;  // short, fixed text ("settled", "retryable failure", ...)
  // The Job once one holds the path (its attempts, stats, failure), null
  // before the read starts. Valid only during the call.
  const Job* job = nullptr;
};

// What a state change is about: which path of which pipeline.
struct JobPath {
  std::string_view pipeline;
  std::string_view rel;
};

// The table: may a job in `from` move to `to`? Pure.
[[nodiscard]] bool allowedTransition(JobState from, JobState to);

class JobEvents {
 public:
  using Listener = std::function<void(const JobEvent&)>;

  explicit JobEvents(const Clock& clock) : clock_(clock) {}
  JobEvents(const JobEvents&) = delete;
  JobEvents& operator=(const JobEvents&) = delete;

  void subscribe(Listener listener) { listeners_.push_back(std::move(listener)); }

  // Sets `state` to `to` if the table allows it (else DROPD_CHECK aborts)
  // and tells `events`' listeners; `events` may be null (tests, tools): the
  // check still runs. `job` (may be null) is handed to the listeners.
  static void move(JobEvents* events, JobState& state, JobPath path, JobState to,
                   std::string_view reason, const Job* job = nullptr);

 private:
  const Clock& clock_;
  std::vector<Listener> listeners_;
};

}  // namespace dropd::pipeline
