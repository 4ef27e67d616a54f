#pragma once

// What GET /events says (docs/operations.md, "Status server"): every job's
// change of state as `event: job` and every change of an endpoint's health
// as `event: endpoint`, each as JSON published on the EventHub. File names
// are any bytes: the JSON replaces what is not UTF-8. Error text may echo a
// secret: each event's data passes the SecretMask, as /status does.
//
// Loop thread only. Owned by the Daemon next to the hub; `hub`, `clock`
// and `mask` (may be null: nothing to mask) must outlive it. Private to
// the ops module.

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/base/clock.hpp"
#include "dropd/config/secret_mask.hpp"
#include "dropd/ops/event_hub.hpp"
#include "dropd/pipeline/dispatcher.hpp"
#include "dropd/pipeline/job_events.hpp"

namespace dropd::ops {

class EventFeed {
 public:
  EventFeed(EventHub& hub, const Clock& clock, const config::SecretMask* mask);

  // A JobEvents listener: one `job` event
  // {"pipeline","path","from","to","at","reason"}.
  void onJobEvent(const pipeline::JobEvent& e);
  // After each attempt of `d` and on the daemon's tick (pauses, breakers and
  // Retry-After end on timers): one `endpoint` event
  // {"endpoint","from","to","at","reason"} if its state (endpointState())
  // is not the one seen last. An endpoint not seen yet was "ok".
  void checkEndpoint(const pipeline::Dispatcher& d);

 private:
  void publish(std::string_view event, const nlohmann::ordered_json& data);
  void publishText(std::string_view event, const std::string& data);
  // rfc3339(at), the part up to the second reused while it is the same:
  // every job event has a time, and strftime was most of its cost.
  void appendTime(std::string& out, WallTime at);

  EventHub& hub_;
  const Clock& clock_;
  const config::SecretMask* const mask_;
  std::map<std::string, std::string, std::less<>> endpoint_state_;  // by endpoint name
  std::chrono::sys_seconds time_second_{};
  std::string time_prefix_;  // "2026-12-04T15:01:02" of time_second_
};

}  // namespace dropd::ops
