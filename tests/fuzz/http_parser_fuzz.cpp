// HttpParser on any bytes, as a request or a response stream: the messages
// and the error it reports do not depend on how TCP cut the bytes (whole,
// split at one point, or one byte at a time), feed() never claims more than
// it was given and stops only at the end of a message, and no body passes
// its limit.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/net/http_parser.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::net::HttpParser;
using dropd::net::ParsedMessage;

constexpr dropd::net::ParserLimits kLimits{.max_header_bytes = 1024, .max_body_bytes = 4096};

struct Outcome {
  std::vector<ParsedMessage> messages;
  bool failed = false;
};

bool sameMessage(const ParsedMessage& a, const ParsedMessage& b) {
  if (a.status != b.status || a.method != b.method || a.target != b.target || a.body != b.body ||
      a.keep_alive != b.keep_alive || a.headers.size() != b.headers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) {
      return false;
    }
  }
  return true;
}

void takeMessage(HttpParser& parser, Outcome& out) {
  out.messages.push_back(parser.take());
  DROPD_FUZZ_CHECK(out.messages.back().body.size() <= kLimits.max_body_bytes);
}

// Feeds `wire` in pieces of `piece_bytes` (0: whole), then reports end of stream.
Outcome parse(HttpParser::Kind kind, std::string_view wire, std::size_t piece_bytes) {
  HttpParser parser(kind, kLimits);
  Outcome out;
  while (!wire.empty()) {
    std::string_view piece = wire.substr(0, piece_bytes == 0 ? wire.size() : piece_bytes);
    wire.remove_prefix(piece.size());
    while (!piece.empty()) {
      const auto used = parser.feed(piece);
      if (!used) {
        out.failed = true;
        return out;
      }
      DROPD_FUZZ_CHECK(*used <= piece.size());
      DROPD_FUZZ_CHECK(parser.complete() || *used == piece.size());
      piece.remove_prefix(*used);
      if (parser.complete()) {
        takeMessage(parser, out);
      }
    }
  }
  if (!parser.finish()) {
    out.failed = true;
  } else if (parser.complete()) {
    takeMessage(parser, out);
  }
  return out;
}

bool sameOutcome(const Outcome& a, const Outcome& b) {
  if (a.failed != b.failed || a.messages.size() != b.messages.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.messages.size(); ++i) {
    if (!sameMessage(a.messages[i], b.messages[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::uint8_t flags = input.takeByte();
  const auto kind = (flags & 1) != 0 ? HttpParser::Kind::kResponse : HttpParser::Kind::kRequest;
  const std::size_t piece_bytes = 1 + (flags >> 1) % 64;
  const std::string_view wire = input.takeRest();

  const Outcome whole = parse(kind, wire, 0);
  DROPD_FUZZ_CHECK(sameOutcome(whole, parse(kind, wire, piece_bytes)));
  if (wire.size() <= 2048) {
    DROPD_FUZZ_CHECK(sameOutcome(whole, parse(kind, wire, 1)));
  }
  return 0;
}
