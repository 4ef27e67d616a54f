// The dropd <-> dropd-extract frames on any bytes: FrameReader yields the
// same payloads however the stream is split (whole, at one point, or one
// byte at a time) and holds no more than it was fed; decodeRequest and
// decodeReply never crash, and what they decode encodes back to a frame
// that decodes to the same message.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dropd/extract/protocol.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace dropd::extract;

struct Cut {
  std::vector<std::string> payloads;
  bool broken = false;
  std::size_t pending = 0;
};

Cut cut(std::string_view bytes, std::size_t step) {
  FrameReader reader;
  Cut out;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    reader.feed(bytes.substr(at, step));
    while (auto payload = reader.next()) {
      out.payloads.push_back(std::move(*payload));
    }
  }
  out.broken = reader.broken();
  out.pending = reader.pendingBytes();
  return out;
}

std::string payloadOf(const std::string& frame) { return frame.substr(kFrameHeaderBytes); }

void checkRequest(std::string_view payload) {
  const auto request = decodeRequest(payload);
  if (!request) {
    return;
  }
  const auto again = decodeRequest(payloadOf(encodeRequest(*request)));
  DROPD_FUZZ_CHECK(again.has_value());
  DROPD_FUZZ_CHECK(again->id == request->id && again->path == request->path);
  DROPD_FUZZ_CHECK(again->options.max_pages == request->options.max_pages);
  DROPD_FUZZ_CHECK(again->options.formats == request->options.formats);
}

void checkReply(std::string_view payload) {
  const auto reply = decodeReply(payload);
  if (!reply) {
    return;
  }
  const auto again = decodeReply(payloadOf(encodeReply(*reply)));
  DROPD_FUZZ_CHECK(again.has_value());
  DROPD_FUZZ_CHECK(again->id == reply->id);
  DROPD_FUZZ_CHECK(again->answer.index() == reply->answer.index());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::size_t split = 1 + input.takeByte() % 64;
  const std::string_view stream = input.takeRest();
  const Cut whole = cut(stream, stream.size() + 1);
  for (const std::size_t step : {std::size_t{1}, split}) {
    const Cut other = cut(stream, step);
    DROPD_FUZZ_CHECK(other.payloads == whole.payloads);
    DROPD_FUZZ_CHECK(other.broken == whole.broken);
  }
  DROPD_FUZZ_CHECK(whole.pending <= stream.size());
  for (const std::string& payload : whole.payloads) {
    checkRequest(payload);
    checkReply(payload);
  }
  checkRequest(stream);
  checkReply(stream);
  return 0;
}
