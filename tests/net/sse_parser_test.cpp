#include "dropd/net/sse_parser.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using dropd::net::SseEvent;
using dropd::net::SseParser;

namespace {

// `stream` fed in two reads, split after `split` bytes.
std::vector<SseEvent> feedSplit(std::string_view stream, std::size_t split) {
  SseParser parser;
  std::vector<SseEvent> events = parser.feed(stream.substr(0, split));
  for (SseEvent& e : parser.feed(stream.substr(split))) {
    events.push_back(std::move(e));
  }
  return events;
}

// `stream` fed one byte per read.
std::vector<SseEvent> feedBytes(std::string_view stream) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (const char c : stream) {
    for (SseEvent& e : parser.feed(std::string_view(&c, 1))) {
      events.push_back(std::move(e));
    }
  }
  return events;
}

}  // namespace

TEST_CASE("SseParser dispatches events at blank lines", "[net]") {
  const std::string stream =
      ": keepalive\n\nid: 1\nevent: job\ndata: {\"a\":1}\n\n"
      "id: 2\r\nevent: endpoint\r\ndata: x\r\ndata: y\r\n\r\n"
      "event: reset\n\ndata:no-space\rretry: 10\r\r";
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    CAPTURE(split);
    const std::vector<SseEvent> events = feedSplit(stream, split);
    REQUIRE(events.size() == 4);
    CHECK((events[0].id == "1" && events[0].event == "job" && events[0].data == "{\"a\":1}"));
    CHECK((events[1].id == "2" && events[1].event == "endpoint" && events[1].data == "x\ny"));
    CHECK((events[2].event == "reset" && events[2].data.empty()));
    CHECK((events[3].event == "message" && events[3].data == "no-space"));
  }
  SECTION("an event without data or name is not dispatched") {
    SseParser parser;
    CHECK(parser.feed("id: 3\n\n\n").empty());
  }
}

TEST_CASE("SseParser reads OpenAI's chat-completions framing", "[net]") {
  const std::string stream =
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n"
      "data:{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
      ": OPENROUTER PROCESSING\n\n"
      "event: error\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n"
      "data: [DONE]\n\n";
  const std::vector<SseEvent> whole = feedSplit(stream, stream.size());
  REQUIRE(whole.size() == 4);
  CHECK(whole[0].data == "{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}");
  CHECK(whole[1].data == "{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}");
  CHECK((whole[2].event == "error" && whole[2].data.starts_with("{\"error\"")));
  CHECK(whole[3].data == "[DONE]");
  SECTION("one byte per read gives the same events") {
    const std::vector<SseEvent> bytes = feedBytes(stream);
    REQUIRE(bytes.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) {
      CHECK((bytes[i].event == whole[i].event && bytes[i].data == whole[i].data));
    }
  }
  SECTION("only the first space after the colon is dropped") {
    SseParser parser;
    const auto events = parser.feed("data:  two\ndata\n\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == " two\n");
  }
  SECTION("an event whose blank line has not come is held back") {
    SseParser parser;
    CHECK(parser.feed("data: [DONE]\n").empty());
    CHECK(parser.feed("\n").size() == 1);
  }
}
