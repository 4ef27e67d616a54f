#include "dropd/ops/event_stream.hpp"

#include <charconv>

#include "dropd/net/chunk_line.hpp"
#include "dropd/net/http_message.hpp"

namespace dropd::ops {
namespace {

constexpr std::size_t kMaxHeadBytes = 16 * 1024;
constexpr std::size_t kMaxLineBytes = 4 * 1024;  // a chunk-size or trailer line

// Whether the head's header lines (after the status line) hold
// "Transfer-Encoding: ... chunked".
bool headSaysChunked(std::string_view head) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        net::equalsIgnoreCase(line.substr(0, colon), "transfer-encoding")) {
      const std::string_view value = line.substr(colon + 1);
      if (value.find("chunked") != std::string_view::npos) {
        return true;
      }
    }
    pos = end;
  }
  return false;
}

}  // namespace

Result<std::optional<StreamHead>> parseStreamHead(std::string_view bytes) {
  const std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() > kMaxHeadBytes) {
      return makeError(ErrorCode::kTooLarge, "response head over 16 KiB");
    }
    return std::optional<StreamHead>{};
  }
  const std::string_view head = bytes.substr(0, end + 2);
  // "HTTP/1.1 200 OK": the code is the three digits after the first space.
  const std::size_t space = head.find(' ');
  int status = 0;
  const bool has_code =
      head.starts_with("HTTP/1.") && space != std::string_view::npos && space + 4 <= head.size();
  const char* code_end = has_code ? head.data() + space + 4 : nullptr;
  if (!has_code || std::from_chars(head.data() + space + 1, code_end, status).ptr != code_end) {
    return makeError(ErrorCode::kProtocol,
                     "malformed status line: " + std::string(head.substr(0, head.find("\r\n"))));
  }
  return std::optional<StreamHead>{StreamHead{status, headSaysChunked(head), end + 4}};
}

Result<std::string> ChunkedDecoder::feed(std::string_view bytes) {
  std::string out;
  while (!bytes.empty() && state_ != State::kFinished) {
    if (state_ == State::kData) {
      const std::size_t n = std::min(left_, bytes.size());
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      left_ -= n;
      if (left_ == 0) {
        state_ = State::kDataEnd;
      }
      continue;
    }
    const std::size_t lf = bytes.find('\n');
    line_.append(bytes.substr(0, lf));
    if (line_.size() > kMaxLineBytes) {
      return makeError(ErrorCode::kProtocol, "chunk line over 4 KiB");
    }
    if (lf == std::string_view::npos) {
      break;  // the rest of the line is still to come
    }
    bytes.remove_prefix(lf + 1);
    std::string line = std::move(line_);
    line_.clear();
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (state_ == State::kDataEnd) {
      if (!line.empty()) {
        return makeError(ErrorCode::kProtocol, "chunk data not followed by CRLF");
      }
      state_ = State::kSizeLine;
    } else if (state_ == State::kTrailer) {
      state_ = line.empty() ? State::kFinished : State::kTrailer;
    } else {
      const std::optional<std::string_view> digits = net::chunkSizeOf(line);
      std::size_t size = 0;
      if (!digits || digits->size() > 12 ||
          std::from_chars(digits->data(), digits->data() + digits->size(), size, 16).ec !=
              std::errc{}) {
        return makeError(ErrorCode::kProtocol, "bad chunk-size line: " + line.substr(0, 80));
      }
      left_ = size;
      state_ = size == 0 ? State::kTrailer : State::kData;
    }
  }
  return out;
}

}  // namespace dropd::ops
