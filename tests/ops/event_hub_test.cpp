#include "dropd/ops/event_hub.hpp"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/ops/event_stream.hpp"

namespace {

using dropd::ops::EventHub;
using dropd::ops::EventHubLimits;
using dropd::ops::SseEvent;
using dropd::ops::SseParser;
using namespace std::chrono_literals;

// What the hub wrote to one client, and a queue the test sets: a client that
// stops reading is one whose queue only grows.
struct Wire {
  std::string bytes;
  std::size_t queued = 0;
  bool open = true;
  bool ended = false;
  bool closed = false;
  bool stuck = false;                                                  // every write stays queued
  std::vector<std::shared_ptr<const dropd::net::StreamChunk>> chunks;  // as written

  [[nodiscard]] std::vector<SseEvent> events() const {
    SseParser parser;
    return parser.feed(bytes);
  }
};

class FakeSubscriber final : public dropd::ops::EventSubscriber {
 public:
  explicit FakeSubscriber(Wire& wire) : wire_(wire) {}
  void write(const std::shared_ptr<const dropd::net::StreamChunk>& chunk) override {
    if (wire_.open) {
      wire_.bytes += chunk->data();
      wire_.queued += wire_.stuck ? chunk->wire().size() : 0;
      wire_.chunks.push_back(chunk);
    }
  }
  void end() override {
    wire_.ended = true;
    wire_.open = false;
  }
  void close() override {
    wire_.closed = true;
    wire_.open = false;
  }
  [[nodiscard]] bool open() const override { return wire_.open; }
  [[nodiscard]] std::size_t queuedBytes() const override { return wire_.queued; }

 private:
  Wire& wire_;
};

std::unique_ptr<FakeSubscriber> on(Wire& wire) { return std::make_unique<FakeSubscriber>(wire); }

void publishN(EventHub& hub, int n) {
  for (int i = 0; i < n; ++i) {
    (void)hub.publish("job", R"({"n":)" + std::to_string(i) + "}");
  }
}

std::vector<std::string> idsOf(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const SseEvent& e : events) {
    out.push_back(e.id);
  }
  return out;
}

}  // namespace

TEST_CASE("EventHub numbers events and sends them to every subscriber", "[ops]") {
  EventHub hub;
  Wire a;
  Wire b;
  REQUIRE(hub.subscribe(on(a), std::nullopt));
  REQUIRE(hub.subscribe(on(b), std::nullopt));
  CHECK(hub.publish("job", R"({"x":1})") == 1);
  CHECK(hub.publish("endpoint", "line one\nline two") == 2);
  for (const Wire* w : {&a, &b}) {
    const auto events = w->events();
    REQUIRE(events.size() == 3);
    CHECK(events[0].event == "reset");  // no Last-Event-ID: the doc's rule
    CHECK(events[1].id == "1");
    CHECK(events[1].event == "job");
    CHECK(events[1].data == R"({"x":1})");
    CHECK(events[2].id == "2");
    CHECK(events[2].data == "line one\nline two");  // one data: line per line
  }
  CHECK(a.bytes.find("id: 1\nevent: job\ndata: {\"x\":1}\n\n") != std::string::npos);
  CHECK(hub.lastId() == 2);
  CHECK(hub.subscribers() == 2);
}

TEST_CASE("EventHub resumes from Last-Event-ID while the ring holds it", "[ops]") {
  EventHub hub(EventHubLimits{.ring = 1024});
  publishN(hub, 1500);  // ids 1..1500; the ring keeps 477..1500
  Wire w;

  SECTION("an id in the ring: exactly the events after it") {
    REQUIRE(hub.subscribe(on(w), "1490"));
    const auto events = w.events();
    CHECK(idsOf(events) == std::vector<std::string>{"1491", "1492", "1493", "1494", "1495", "1496",
                                                    "1497", "1498", "1499", "1500"});
  }
  SECTION("the oldest id still resumable: the whole ring, no reset") {
    REQUIRE(hub.subscribe(on(w), "476"));
    const auto events = w.events();
    REQUIRE(events.size() == 1024);
    CHECK(events.front().id == "477");
    CHECK(events.back().id == "1500");
  }
  SECTION("the last id: nothing to replay, then live events") {
    REQUIRE(hub.subscribe(on(w), "1500"));
    CHECK(w.events().empty());
    (void)hub.publish("job", "{}");
    CHECK(idsOf(w.events()) == std::vector<std::string>{"1501"});
  }
  SECTION("an id older than the ring: reset first, then live events only") {
    REQUIRE(hub.subscribe(on(w), "475"));
    (void)hub.publish("job", "{}");
    const auto events = w.events();
    REQUIRE(events.size() == 2);
    CHECK(events[0].event == "reset");
    CHECK(events[1].id == "1501");
  }
  SECTION("garbage or an id this process never gave: reset") {
    for (const char* id : {"", "abc", "12x", "-1", "1501", "99999999999999999999999"}) {
      Wire fresh;
      REQUIRE(hub.subscribe(on(fresh), std::string_view(id)));
      const auto events = fresh.events();
      REQUIRE(events.size() == 1);
      CHECK(events[0].event == "reset");
    }
  }
}

TEST_CASE("EventHub's ids start where it is told, above an earlier run's", "[ops]") {
  const dropd::WallTime start{std::chrono::sys_days{std::chrono::year{2026} / 12 / 4}};
  const std::uint64_t first = EventHub::firstIdAt(start);
  CHECK(first == 1796342400000000u);
  CHECK(EventHub::firstIdAt(start + 1ms) == first + 1000);
  CHECK(EventHub::firstIdAt(dropd::WallTime{}) == 1);  // never 0: 0 means "none yet"
  EventHub hub(EventHubLimits{}, first);
  CHECK(hub.lastId() == first - 1);
  CHECK(hub.publish("job", "{}") == first);
  Wire resumed;
  REQUIRE(hub.subscribe(on(resumed), std::to_string(first - 1)));
  CHECK(idsOf(resumed.events()) == std::vector<std::string>{std::to_string(first)});
  Wire earlier_run;  // its last id was below this run's first
  REQUIRE(hub.subscribe(on(earlier_run), "1500"));
  REQUIRE(earlier_run.events().size() == 1);
  CHECK(earlier_run.events()[0].event == "reset");
}

TEST_CASE("EventHub's ring wraps at its size", "[ops]") {
  EventHub hub;
  publishN(hub, 1024);
  Wire all;
  REQUIRE(hub.subscribe(on(all), "0"));  // nothing seen: the ring still holds id 1
  CHECK(all.events().size() == 1024);
  CHECK(all.events().front().id == "1");
  (void)hub.publish("job", "{}");  // 1025 pushes 1 out
  Wire late;
  REQUIRE(hub.subscribe(on(late), "0"));
  CHECK(late.events().front().event == "reset");
  Wire resumed;
  REQUIRE(hub.subscribe(on(resumed), "1"));
  REQUIRE(resumed.events().size() == 1024);
  CHECK(resumed.events().front().id == "2");
  CHECK(resumed.events().back().id == "1025");
}

TEST_CASE("EventHub drops a subscriber that falls behind and counts it", "[ops]") {
  EventHub hub(EventHubLimits{.max_queued_bytes = 1000});
  Wire slow;
  slow.stuck = true;
  Wire fast;
  REQUIRE(hub.subscribe(on(slow), std::nullopt));
  REQUIRE(hub.subscribe(on(fast), std::nullopt));
  const std::string data(100, 'x');
  int sent = 0;
  while (!slow.closed && sent < 100) {
    (void)hub.publish("job", data);
    ++sent;
  }
  CHECK(slow.closed);
  CHECK_FALSE(slow.ended);
  CHECK(slow.queued > 1000);
  CHECK(slow.queued < 1000 + 200);  // closed at the first write over the bound
  CHECK(hub.dropped() == 1);
  CHECK(hub.subscribers() == 1);
  (void)hub.publish("job", data);
  CHECK(fast.events().size() == static_cast<std::size_t>(sent) + 2);  // reset + all
  CHECK(hub.dropped() == 1);

  SECTION("a client that left is forgotten, not counted as dropped") {
    fast.open = false;
    CHECK(hub.subscribers() == 0);
    CHECK(hub.dropped() == 1);
  }
  SECTION("a replay past the bound drops at once") {
    Wire replayed;
    replayed.stuck = true;
    REQUIRE(hub.subscribe(on(replayed), "1"));
    CHECK(replayed.closed);
    CHECK(hub.dropped() == 2);
    CHECK(hub.subscribers() == 1);
  }
}

TEST_CASE("EventHub sends a keepalive on the tick once the period passed", "[ops]") {
  EventHub hub(EventHubLimits{.keepalive = 15s});
  Wire w;
  REQUIRE(hub.subscribe(on(w), std::nullopt));
  const std::size_t start = w.bytes.size();
  const dropd::MonoTime t0{std::chrono::hours(1)};
  hub.tick(t0);
  hub.tick(t0 + 14999ms);
  CHECK(w.bytes.size() == start);
  hub.tick(t0 + 15s);
  CHECK(w.bytes.substr(start) == EventHub::kKeepalive);
  hub.tick(t0 + 29s);
  CHECK(w.bytes.size() == start + EventHub::kKeepalive.size());
  hub.tick(t0 + 30s);
  CHECK(w.bytes.size() == start + 2 * EventHub::kKeepalive.size());
  CHECK(w.events().size() == 1);  // comments dispatch nothing: just the reset
}

TEST_CASE("EventHub refuses the subscriber past its bound", "[ops]") {
  EventHub hub;
  std::vector<Wire> wires(17);
  for (std::size_t i = 0; i < 16; ++i) {
    REQUIRE(hub.subscribe(on(wires[i]), std::nullopt));
  }
  CHECK(hub.full());
  CHECK_FALSE(hub.subscribe(on(wires[16]), std::nullopt));
  CHECK(wires[16].bytes.empty());
  CHECK(hub.subscribers() == 16);

  SECTION("one leaving makes room") {
    wires[3].open = false;
    CHECK_FALSE(hub.full());
    CHECK(hub.subscribe(on(wires[16]), std::nullopt));
  }
  SECTION("endAll ends every stream cleanly") {
    hub.endAll();
    CHECK(hub.subscribers() == 0);
    for (std::size_t i = 0; i < 16; ++i) {
      CHECK(wires[i].ended);
      CHECK_FALSE(wires[i].closed);
    }
  }
}

TEST_CASE("EventHub batches until flush() and shares one chunk among subscribers", "[ops]") {
  EventHub hub(EventHubLimits{.flush_bytes = 1000});
  int pending_calls = 0;
  hub.onPending([&] { ++pending_calls; });
  (void)hub.publish("job", "{}");  // nobody reads: only the ring keeps it
  CHECK(pending_calls == 0);
  std::vector<Wire> wires(3);
  for (Wire& w : wires) {
    REQUIRE(hub.subscribe(on(w), "0"));  // the ring's event 1 is replayed
  }
  (void)hub.publish("job", "{}");
  (void)hub.publish("job", "{}");
  CHECK(pending_calls == 1);  // once, when the first event began to wait
  CHECK(idsOf(wires[0].events()) == std::vector<std::string>{"1"});  // nothing live yet
  hub.flush();
  hub.flush();  // nothing waits: no empty write
  for (const Wire& w : wires) {
    REQUIRE(w.chunks.size() == 2);  // the start, then one chunk for both events
    CHECK(idsOf(w.events()) == std::vector<std::string>{"1", "2", "3"});
    CHECK(w.chunks[1] == wires[0].chunks[1]);  // the same buffer, not a copy each
  }

  SECTION("past flush_bytes the batch goes out without waiting for flush()") {
    const std::string data(350, 'x');
    for (int i = 0; i < 3; ++i) {
      (void)hub.publish("job", data);  // ~375 bytes each: the third passes 1,000
    }
    CHECK(pending_calls == 2);
    for (const Wire& w : wires) {
      CHECK(w.chunks.size() == 3);
      CHECK(w.events().size() == 6);
    }
    (void)hub.publish("job", data);  // the next batch starts waiting again
    CHECK(pending_calls == 3);
    CHECK(wires[0].chunks.size() == 3);
  }
  SECTION("a newcomer gets what waits in its start, not twice") {
    (void)hub.publish("job", "{}");  // id 4, waiting
    Wire late;
    REQUIRE(hub.subscribe(on(late), "3"));
    hub.flush();
    CHECK(idsOf(late.events()) == std::vector<std::string>{"4"});
    CHECK(idsOf(wires[0].events()) == std::vector<std::string>{"1", "2", "3", "4"});
  }
}

TEST_CASE("EventHub reuses the ring's buffers once it is full", "[ops]") {
  EventHub hub(EventHubLimits{.ring = 4});
  publishN(hub, 50);  // wraps many times: every event still whole
  Wire w;
  REQUIRE(hub.subscribe(on(w), "46"));
  const auto events = w.events();
  REQUIRE(events.size() == 4);
  CHECK(events[0].id == "47");
  CHECK(events[0].data == R"({"n":46})");
  CHECK(events[3].id == "50");
  CHECK(events[3].data == R"({"n":49})");
  EventHub none(EventHubLimits{.ring = 0});  // no ring at all: live events only
  Wire live;
  REQUIRE(none.subscribe(on(live), std::nullopt));
  (void)none.publish("job", "{}");
  CHECK(idsOf(live.events()) == std::vector<std::string>{"", "1"});
}
