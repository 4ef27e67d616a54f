#include "dropd/ops/event_hub.hpp"

#include <algorithm>
#include <charconv>

namespace dropd::ops {
namespace {

// An EventSource waits this long before it reconnects (and resumes).
constexpr std::string_view kRetry = "retry: 2000\n\n";

std::optional<std::uint64_t> parseId(std::string_view text) {
  std::uint64_t id = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return id;
}

}  // namespace

EventHub::EventHub(EventHubLimits limits, std::uint64_t first_id)
    : limits_(limits), next_id_(std::max<std::uint64_t>(first_id, 1)) {}

std::uint64_t EventHub::firstIdAt(WallTime start) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(start.time_since_epoch()).count();
  return us > 0 ? static_cast<std::uint64_t>(us) : 1;
}

std::uint64_t EventHub::publish(std::string_view event, std::string_view data) {
  const std::uint64_t id = next_id_++;
  std::string text = "id: " + std::to_string(id) + "\nevent: " + std::string(event) + "\n";
  // A line break inside the data would end the field: each line gets its own.
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = data.find('\n', start);
    text.append("data: ").append(data.substr(start, nl - start)).append("\n");
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
  text.push_back('\n');
  ring_.push_back({id, std::move(text)});
  if (ring_.size() > limits_.ring) {
    ring_.pop_front();
  }
  if (!on_pending_) {
    broadcast(ring_.back().text);
  } else if (!subscribers_.empty()) {
    // Nobody reads: the ring is enough, there is nothing to batch.
    const bool first = pending_.empty();
    pending_.append(ring_.back().text);
    if (first) {
      on_pending_();
    }
  }
  return id;
}

void EventHub::flush() {
  if (pending_.empty()) {
    return;
  }
  broadcast(pending_);
  pending_.clear();
}

std::string EventHub::startFor(std::optional<std::string_view> last_event_id) const {
  std::string out(kRetry);
  const std::optional<std::uint64_t> seen = last_event_id ? parseId(*last_event_id) : std::nullopt;
  // The ring holds the ids lastId() - size() + 1 .. lastId(), without gaps:
  // `seen` resumes if the event after it is among them, or is none yet.
  if (!seen || *seen > lastId() || *seen + ring_.size() < lastId()) {
    out.append(kReset);
    return out;
  }
  for (const Entry& e : ring_) {
    if (e.id > *seen) {
      out.append(e.text);
    }
  }
  return out;
}

bool EventHub::subscribe(std::unique_ptr<EventSubscriber> subscriber,
                         std::optional<std::string_view> last_event_id) {
  if (full()) {
    return false;
  }
  flush();  // what is pending is in the ring: the newcomer's start covers it
  subscriber->write(startFor(last_event_id));
  if (keepUp(*subscriber)) {
    subscribers_.push_back(std::move(subscriber));
  }
  return true;
}

bool EventHub::full() { return subscribers() >= limits_.max_subscribers; }

void EventHub::tick(MonoTime now) {
  if (!last_keepalive_) {
    last_keepalive_ = now;
    return;
  }
  if (now - *last_keepalive_ < limits_.keepalive) {
    return;
  }
  last_keepalive_ = now;
  flush();
  broadcast(std::string(kKeepalive));
}

void EventHub::endAll() {
  flush();
  for (const auto& s : subscribers_) {
    s->end();
  }
  subscribers_.clear();
}

std::size_t EventHub::subscribers() {
  forgetGone();
  return subscribers_.size();
}

void EventHub::broadcast(const std::string& text) {
  forgetGone();
  std::erase_if(subscribers_, [&](const std::unique_ptr<EventSubscriber>& s) {
    s->write(text);
    return !keepUp(*s);
  });
}

bool EventHub::keepUp(EventSubscriber& subscriber) {
  if (!subscriber.open()) {
    return false;  // it left while being written to: not a drop
  }
  if (subscriber.queuedBytes() <= limits_.max_queued_bytes) {
    return true;
  }
  subscriber.close();
  ++dropped_;
  return false;
}

void EventHub::forgetGone() {
  std::erase_if(subscribers_, [](const std::unique_ptr<EventSubscriber>& s) { return !s->open(); });
}

}  // namespace dropd::ops
