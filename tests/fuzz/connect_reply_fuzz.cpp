// parseConnectReply() on any bytes and limit: a finished head has a status
// from 100 to 999, ends with a blank line inside the data and the limit,
// and gives the same answer with more bytes after it; an unfinished one
// stays unfinished or turns malformed only when the limit is passed.

#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/net/connect_reply.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dropd::net::ConnectReply;
  dropd::fuzz::FuzzInput in(data, size);
  const std::size_t limit = in.takeInt<std::uint16_t>();
  const std::string text(in.takeRest());
  const ConnectReply reply = dropd::net::parseConnectReply(text, limit);
  if (reply.state == ConnectReply::State::kDone) {
    DROPD_FUZZ_CHECK(reply.status >= 100 && reply.status <= 999);
    DROPD_FUZZ_CHECK(reply.head_bytes <= text.size() && reply.head_bytes <= limit);
    const std::string_view head = std::string_view(text).substr(0, reply.head_bytes);
    DROPD_FUZZ_CHECK(head.ends_with("\n\n") || head.ends_with("\n\r\n"));
    const ConnectReply more = dropd::net::parseConnectReply(text + "\r\n\r\nextra", limit);
    DROPD_FUZZ_CHECK(more.state == reply.state && more.status == reply.status &&
                     more.head_bytes == reply.head_bytes);
  }
  if (reply.state == ConnectReply::State::kIncomplete) {
    DROPD_FUZZ_CHECK(text.size() <= limit);
  }
  return 0;
}
