// SseParser on any bytes, fed whole and again in pieces whose sizes come
// from the input: the same events in the same order either way (a read
// boundary never changes what the stream says), and no event's data holds
// a CR (every CR ends a line).

#include <cstdint>
#include <string_view>
#include <vector>

#include "dropd/net/sse_parser.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

bool sameEvents(const std::vector<dropd::net::SseEvent>& a,
                const std::vector<dropd::net::SseEvent>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].event != b[i].event || a[i].data != b[i].data) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::uint8_t seed = input.takeByte();  // piece sizes: 1 + (seed + i) % 7
  const std::string_view stream = input.takeRest();
  dropd::net::SseParser whole_parser;
  const std::vector<dropd::net::SseEvent> whole = whole_parser.feed(stream);
  dropd::net::SseParser split_parser;
  std::vector<dropd::net::SseEvent> split;
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); ++i) {
    const std::size_t n = 1 + (seed + i) % 7;
    for (auto& e : split_parser.feed(stream.substr(at, n))) {
      split.push_back(std::move(e));
    }
    at += n;
  }
  DROPD_FUZZ_CHECK(sameEvents(whole, split));
  for (const auto& e : whole) {
    DROPD_FUZZ_CHECK(e.data.find('\r') == std::string_view::npos);
    DROPD_FUZZ_CHECK(e.event.find('\n') == std::string_view::npos);
  }
  return 0;
}
