#include "ops/event_feed.hpp"

#include "ops/status_render.hpp"

namespace dropd::ops {

EventFeed::EventFeed(EventHub& hub, const Clock& clock, const config::SecretMask* mask)
    : hub_(hub), clock_(clock), mask_(mask) {}

void EventFeed::onJobEvent(const pipeline::JobEvent& e) {
  publish("job", {{"pipeline", e.pipeline},
                  {"path", e.rel},
                  {"from", pipeline::toString(e.from)},
                  {"to", pipeline::toString(e.to)},
                  {"at", rfc3339(e.at)},
                  {"reason", e.reason}});
}

void EventFeed::checkEndpoint(const pipeline::Dispatcher& d) {
  EndpointState now = endpointState(d);
  auto it = endpoint_state_.find(d.name());
  if (it == endpoint_state_.end()) {
    it = endpoint_state_.emplace(d.name(), "ok").first;
  }
  if (it->second == now.state) {
    return;
  }
  publish("endpoint", {{"endpoint", d.name()},
                       {"from", it->second},
                       {"to", now.state},
                       {"at", rfc3339(clock_.wallNow())},
                       {"reason", std::move(now.reason)}});
  it->second = now.state;
}

void EventFeed::publish(std::string_view event, const nlohmann::ordered_json& data) {
  // Not UTF-8 (a file name, an endpoint's text): replaced, never thrown.
  const std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  hub_.publish(event, mask_ != nullptr ? mask_->applyToJson(text) : text);
}

}  // namespace dropd::ops
