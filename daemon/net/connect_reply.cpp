#include "dropd/net/connect_reply.hpp"

namespace dropd::net {
namespace {

using State = ConnectReply::State;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// "HTTP/1.1 200 Connection established": the code, or 0 if not a status line.
int statusOf(std::string_view line) noexcept {
  if (!line.starts_with("HTTP/1.") || line.size() < 12 || !isDigit(line[7]) || line[8] != ' ') {
    return 0;
  }
  const std::string_view code = line.substr(9, 3);
  if (!isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) || code[0] == '0') {
    return 0;
  }
  if (line.size() > 12 && line[12] != ' ') {
    return 0;  // "HTTP/1.1 2000"
  }
  return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

// The end of the blank line that closes the head, or npos.
std::size_t headEnd(std::string_view data) noexcept {
  for (std::size_t at = data.find('\n'); at != std::string_view::npos;
       at = data.find('\n', at + 1)) {
    const std::string_view rest = data.substr(at + 1);
    if (rest.starts_with("\r\n")) {
      return at + 3;
    }
    if (rest.starts_with('\n')) {
      return at + 2;
    }
  }
  return std::string_view::npos;
}

}  // namespace

ConnectReply parseConnectReply(std::string_view data, std::size_t head_limit) noexcept {
  ConnectReply out;
  const std::size_t first_lf = data.find('\n');
  if (first_lf != std::string_view::npos) {
    std::string_view line = data.substr(0, first_lf);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    out.status = statusOf(line);
    if (out.status == 0) {
      out.state = State::kMalformed;
      return out;
    }
  }
  const std::size_t end = first_lf == std::string_view::npos ? first_lf : headEnd(data);
  if (end == std::string_view::npos || end > head_limit) {
    const bool too_long = (end == std::string_view::npos ? data.size() : end) > head_limit;
    out.state = too_long ? State::kMalformed : State::kIncomplete;
    return out;
  }
  out.state = State::kDone;
  out.head_bytes = end;
  return out;
}

}  // namespace dropd::net
