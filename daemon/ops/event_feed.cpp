#include "ops/event_feed.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "dropd/llm/json_escape.hpp"

#include "ops/status_render.hpp"

namespace dropd::ops {

EventFeed::EventFeed(EventHub& hub, const Clock& clock, const config::SecretMask* mask)
    : hub_(hub), clock_(clock), mask_(mask) {}

void EventFeed::onJobEvent(const pipeline::JobEvent& e) {
  // Written by hand, not through nlohmann: six of these per file, and the
  // tree they would build is thrown away at once. appendJsonEscaped
  // replaces bytes that are not UTF-8, as dump()'s replace handler does.
  std::string data;
  data.reserve(96 + e.pipeline.size() + e.rel.size() + e.reason.size());
  data.append(R"({"pipeline":")");
  llm::appendJsonEscaped(data, e.pipeline);
  data.append(R"(","path":")");
  llm::appendJsonEscaped(data, e.rel);
  data.append(R"(","from":")").append(pipeline::toString(e.from));
  data.append(R"(","to":")").append(pipeline::toString(e.to));
  data.append(R"(","at":")");
  appendTime(data, e.at);
  data.append(R"(","reason":")");
  llm::appendJsonEscaped(data, e.reason);
  data.append(R"("})");
  publishText("job", data);
}

void EventFeed::appendTime(std::string& out, WallTime at) {
  // floor, not truncation: before 1970 the milliseconds stay 0..999 too.
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(at);
  const auto second = std::chrono::floor<std::chrono::seconds>(ms);
  if (second != time_second_ || time_prefix_.empty()) {
    time_second_ = second;
    time_prefix_ = fmt::format("{:%Y-%m-%dT%H:%M:%S}", second);
  }
  // ".mmmZ" by hand: fmt's parsing of the format string cost more than
  // the rest of the event's JSON.
  const auto milli = static_cast<unsigned>((ms - second).count());  // 0..999
  const char tail[] = {'.', static_cast<char>('0' + milli / 100),
                       static_cast<char>('0' + milli / 10 % 10),
                       static_cast<char>('0' + milli % 10), 'Z'};
  out.append(time_prefix_).append(tail, sizeof tail);
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
  publishText(event, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void EventFeed::publishText(std::string_view event, const std::string& data) {
  hub_.publish(event, mask_ != nullptr ? mask_->applyToJson(data) : data);
}

}  // namespace dropd::ops
