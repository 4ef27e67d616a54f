#include "dropd/ops/event_hub.hpp"

#include <algorithm>
#include <array>
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

void EventHub::format(std::string& out, std::uint64_t id, std::string_view event,
                      std::string_view data) {
  std::array<char, 20> digits{};  // UINT64_MAX has 20
  char* const digits_end = std::to_chars(digits.data(), digits.data() + digits.size(), id).ptr;
  out.append("id: ").append(digits.data(), digits_end);
  out.append("\nevent: ").append(event).push_back('\n');
  // A line break inside the data would end the field: each line gets its own.
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = data.find('\n', start);
    out.append("data: ").append(data.substr(start, nl - start)).push_back('\n');
    if (nl == std::string_view::npos) {
      break;
    }
    start = nl + 1;
  }
  out.push_back('\n');
}

std::uint64_t EventHub::publish(std::string_view event, std::string_view data) {
  const std::uint64_t id = next_id_++;
  std::string text;
  if (!ring_.empty() && ring_.size() >= limits_.ring) {
    // The ring is full: the oldest event's buffer takes the new one, no
    // allocation per event once the ring has filled.
    text = std::move(ring_.front().text);
    text.clear();
    ring_.pop_front();
  }
  format(text, id, event, data);
  ring_.push_back({id, std::move(text)});
  const std::string& formatted = ring_.back().text;
  if (!on_pending_) {
    broadcast(std::make_shared<const net::StreamChunk>(formatted));
  } else if (!subscribers_.empty()) {
    // Nobody reads: the ring is enough, there is nothing to batch.
    const bool first = pending_.empty();
    pending_.append(formatted);
    if (pending_.size() >= limits_.flush_bytes) {
      flush();
    } else if (first) {
      on_pending_();
    }
  }
  if (ring_.size() > limits_.ring) {
    ring_.pop_front();  // a ring of size 0
  }
  return id;
}

void EventHub::flush() {
  if (pending_.empty()) {
    return;
  }
  // One buffer for every subscriber; pending_ keeps its capacity.
  auto chunk = std::make_shared<const net::StreamChunk>(pending_);
  pending_.clear();
  broadcast(chunk);
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
  subscriber->write(std::make_shared<const net::StreamChunk>(startFor(last_event_id)));
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
  if (!keepalive_) {
    keepalive_ = std::make_shared<const net::StreamChunk>(kKeepalive);
  }
  broadcast(keepalive_);
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

void EventHub::broadcast(const std::shared_ptr<const net::StreamChunk>& chunk) {
  forgetGone();
  std::erase_if(subscribers_, [&](const std::unique_ptr<EventSubscriber>& s) {
    s->write(chunk);
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
