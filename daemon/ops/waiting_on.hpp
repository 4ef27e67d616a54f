#pragma once

// What a live job is waiting on, in the words of /files' `waiting_on` and
// the `reason` label of dropd_files_waiting: its state, and for a job
// waiting to be sent, why its endpoint's gate last said no. Loop thread
// only. Private to the ops module.

#include <optional>
#include <string>
#include <string_view>

#include "dropd/base/clock.hpp"
#include "dropd/ops/status_model.hpp"
#include "dropd/ops/status_parts.hpp"

namespace dropd::ops {

struct WaitingOn {
  // settle, read_budget, slot, rpm, tpm, retry_after, breaker, pause,
  // backoff, none (being read, sent or written: waiting on nothing).
  std::string_view what = "none";
  std::optional<MonoTime> until;
  std::string detail;  // the pause's reason, the last error; may be empty
};

// The Dispatcher serving that pipeline, or null (a reload under way).
[[nodiscard]] const pipeline::Dispatcher* dispatcherOf(const StatusParts& parts,
                                                       std::string_view pipeline);
// `with_until`: also find a backoff's end (a walk over the endpoint's
// backoff list; /files asks, /metrics does not).
[[nodiscard]] WaitingOn waitingOn(const LiveJob& job, const StatusParts& parts,
                                  std::string_view pipeline, std::string_view rel, bool with_until);

}  // namespace dropd::ops
