#pragma once

// The heart of GET /events (docs/operations.md, "Status server"): it numbers
// every event (`id:`, one apart for the life of the process), formats its
// text/event-stream text once, keeps the last `ring` of them so that a
// client resuming with Last-Event-ID gets exactly what it missed, and
// writes each to every subscriber: the events of one flush() as one
// net::StreamChunk, framed once and shared by every subscriber's write
// (no copy per subscriber).
//
// Bounded on every side: at most `max_subscribers` (subscribe() refuses
// more), at most `ring` events kept, and a subscriber whose unsent bytes
// (queuedBytes()) pass `max_queued_bytes` is closed and counted in
// dropped(): a client that stops reading never slows the loop and never
// grows the daemon's memory past that bound.
//
// No libuv here: subscribers are reached through EventSubscriber (the
// status server wraps a net::ResponseStream; tests fake one), and time
// comes in through tick(). Loop thread only. The Daemon owns the hub, so
// the ring and the ids outlive a status server rebuilt by a reload.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/clock.hpp"
#include "dropd/net/response_stream.hpp"

namespace dropd::ops {

// One /events client as the hub sees it. Every call is a no-op once the
// client is gone (open() false).
class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;
  // Queues `chunk` for the client; never waits. The chunk is shared with
  // the other subscribers: keep a reference, never a copy.
  virtual void write(const std::shared_ptr<const net::StreamChunk>& chunk) = 0;
  // Ends the stream cleanly (the last chunk).
  virtual void end() = 0;
  // Drops the connection now.
  virtual void close() = 0;
  [[nodiscard]] virtual bool open() const = 0;
  // Bytes written and not yet taken by the kernel.
  [[nodiscard]] virtual std::size_t queuedBytes() const = 0;
};

struct EventHubLimits {
  std::size_t ring = 1024;
  std::size_t max_subscribers = 16;
  std::size_t max_queued_bytes = 256u << 10;
  // With onPending() set: flush() at once when this much waits, without
  // waiting for the owner's timer (one write per subscriber stays well
  // under `max_queued_bytes`).
  std::size_t flush_bytes = 64u << 10;
  std::chrono::milliseconds keepalive{15'000};
};

class EventHub {
 public:
  // The first event gets `first_id` (at least 1). The Daemon passes
  // firstIdAt(start): ids then start above those of any earlier run, so a
  // client resuming across a restart gets a reset, not another run's events.
  explicit EventHub(EventHubLimits limits = {}, std::uint64_t first_id = 1);
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Numbers one event, formats it (`id:`, `event:`, one `data:` line per
  // line of `data`), keeps it in the ring and writes it to every
  // subscriber: at once, or with onPending() set, at the next flush() (or
  // now, once `flush_bytes` wait). Returns its id.
  std::uint64_t publish(std::string_view event, std::string_view data);
  // Batching: `fn` is called when an event waits for flush() and none did
  // before; the owner then calls flush() soon (the Daemon: a timer, see
  // kEventFlushDelay). One write per subscriber per batch, not per event:
  // at 3,000 files/s that is the difference between 60% and a few percent
  // of the daemon's CPU.
  void onPending(std::function<void()> fn) { on_pending_ = std::move(fn); }
  // Writes the events published since the last flush to every subscriber.
  void flush();

  // False when `max_subscribers` clients read already (the caller answers
  // 503). Else takes `subscriber` and writes what it starts with: with a
  // `last_event_id` the ring still holds (or the last id itself), every
  // event after it; otherwise (none given, too old, not a number, not an
  // id of this process) `event: reset`, then what comes next.
  [[nodiscard]] bool subscribe(std::unique_ptr<EventSubscriber> subscriber,
                               std::optional<std::string_view> last_event_id);
  // Whether subscribe() would refuse now.
  [[nodiscard]] bool full();

  // Called often (the daemon's tick): writes a `: keepalive` comment to
  // every subscriber once `keepalive` has passed since the last one (or
  // since the first tick).
  void tick(MonoTime now);
  // Daemon stop or status server gone: ends every stream cleanly.
  void endAll();

  // Subscribers still connected (those that left are forgotten here).
  [[nodiscard]] std::size_t subscribers();
  // Subscribers closed for falling behind, since the start.
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }
  // The id of the last event published (0: none yet).
  [[nodiscard]] std::uint64_t lastId() const noexcept { return next_id_ - 1; }
  [[nodiscard]] const EventHubLimits& limits() const noexcept { return limits_; }

  // Microseconds since the Unix epoch at `start` (1 before it): a first id
  // that a later run, started later, cannot have given already.
  [[nodiscard]] static std::uint64_t firstIdAt(WallTime start);

  // `event: reset`, as a stream starts when it cannot resume.
  static constexpr std::string_view kReset = "event: reset\ndata: {}\n\n";
  static constexpr std::string_view kKeepalive = ": keepalive\n\n";

 private:
  struct Entry {
    std::uint64_t id;
    std::string text;  // the whole SSE event, blank line included
  };

  // What a new subscriber is sent first: a replay, or a reset.
  [[nodiscard]] std::string startFor(std::optional<std::string_view> last_event_id) const;
  // Writes to every subscriber; closes and forgets those over the bound.
  void broadcast(const std::shared_ptr<const net::StreamChunk>& chunk);
  // Appends the SSE text of one event to `out`.
  static void format(std::string& out, std::uint64_t id, std::string_view event,
                     std::string_view data);
  // Closes `subscriber` if it is over the bound; true if it still reads.
  bool keepUp(EventSubscriber& subscriber);
  void forgetGone();

  const EventHubLimits limits_;
  std::deque<Entry> ring_;
  std::vector<std::unique_ptr<EventSubscriber>> subscribers_;
  std::uint64_t next_id_ = 1;
  std::uint64_t dropped_ = 0;
  std::optional<MonoTime> last_keepalive_;
  std::string pending_;                                // events not yet written (onPending() set)
  std::shared_ptr<const net::StreamChunk> keepalive_;  // made once
  std::function<void()> on_pending_;
};

}  // namespace dropd::ops
