#include "dropd/net/sse_parser.hpp"

namespace dropd::net {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  while (!bytes.empty()) {
    if (after_cr_ && bytes.front() == '\n') {
      bytes.remove_prefix(1);  // the LF of a CRLF: the line was taken at the CR
    }
    after_cr_ = false;
    const std::size_t end = bytes.find_first_of("\r\n");
    line_.append(bytes.substr(0, end));
    if (end == std::string_view::npos) {
      break;  // the rest of the line is still to come
    }
    after_cr_ = bytes[end] == '\r';
    bytes.remove_prefix(end + 1);
    takeLine(out);
  }
  return out;
}

void SseParser::takeLine(std::vector<SseEvent>& out) {
  const std::string line = std::move(line_);
  line_.clear();
  if (line.empty()) {
    if (has_data_ || current_.event != "message") {
      out.push_back(std::move(current_));
    }
    current_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    return;  // a comment (": keepalive")
  }
  const std::size_t colon = line.find(':');
  const std::string_view name = std::string_view(line).substr(0, colon);
  std::string_view value =
      colon == std::string::npos ? std::string_view() : std::string_view(line).substr(colon + 1);
  if (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  if (name == "data") {
    if (has_data_) {
      current_.data.push_back('\n');
    }
    current_.data.append(value);
    has_data_ = true;
  } else if (name == "event") {
    current_.event = value;
  } else if (name == "id") {
    current_.id = value;
  }
}

}  // namespace dropd::net
