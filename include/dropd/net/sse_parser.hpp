#pragma once

// Splits a text/event-stream body into server-sent events (WHATWG HTML,
// "Parsing an event stream"), as the bytes arrive in reads of any size:
// `dropd status --follow` reads /events with it, and llm reads streamed
// chat completions. Pure (no I/O); any thread, one owner each.

#include <string>
#include <string_view>
#include <vector>

namespace dropd::net {

// One server-sent event.
struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;  // data lines joined by '\n'
};

// Fields `id`, `event`, `data` (others and comment lines ignored), one
// optional space after the colon dropped (`data:x` and `data: x` are the
// same); an event ends at a blank line; CRLF, LF and CR all end lines, and
// a CRLF split across two reads is still one line end. An event without
// data is dispatched only when it is named (`event: reset` alone): the
// spec drops it, but it still means something. Memory: the current line
// and the current event, nothing of events already handed out.
class SseParser {
 public:
  // The events `bytes` completes, in order.
  [[nodiscard]] std::vector<SseEvent> feed(std::string_view bytes);

 private:
  void takeLine(std::vector<SseEvent>& out);
  std::string line_;
  SseEvent current_;
  bool has_data_ = false;
  bool after_cr_ = false;  // a CR ended the last line: an LF right after it is not a new one
};

}  // namespace dropd::net
