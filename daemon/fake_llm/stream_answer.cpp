#include "dropd/fake_llm/stream_answer.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "dropd/fake_llm/completion.hpp"

namespace dropd::fake_llm {
namespace {

std::string chunk(const std::string& data) {
  return fmt::format("{:x}\r\n", data.size()) + data + "\r\n";
}

// Every byte of every piece after the head as a write of its own.
std::vector<std::string> byteWrites(const std::vector<std::string>& pieces) {
  std::vector<std::string> out{pieces.front()};
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    for (const char c : pieces[i]) {
      out.emplace_back(1, c);
    }
  }
  return out;
}

}  // namespace

StreamWrites streamWrites(const std::vector<std::string>& events, const FaultPlan& plan,
                          std::vector<net::Header> headers) {
  headers.insert(headers.begin(), {{"Content-Type", "text/event-stream"},
                                   {"Cache-Control", "no-cache"},
                                   {"Transfer-Encoding", "chunked"}});
  StreamWrites out;
  out.pieces.push_back(net::responseHead(200, headers, 0, true));
  const bool faulted = plan.terminal == FaultKind::kStreamCut ||
                       plan.terminal == FaultKind::kStreamError ||
                       plan.terminal == FaultKind::kStall;
  const std::size_t sent = faulted ? std::max<std::size_t>(1, events.size() / 2) : events.size();
  for (std::size_t i = 0; i < sent && i < events.size(); ++i) {
    out.pieces.push_back(chunk(events[i]));
  }
  if (plan.terminal == FaultKind::kStreamCut) {
    const std::string next = sent < events.size() ? chunk(events[sent]) : chunk("data: {");
    out.pieces.push_back(next.substr(0, next.size() / 2));
    out.after = net::Responder::After::kClose;
  } else if (plan.terminal == FaultKind::kStreamError) {
    out.pieces.push_back(chunk(streamErrorEvent("fake fault: stream-error")));
    out.pieces.emplace_back("0\r\n\r\n");
  } else if (plan.terminal != FaultKind::kStall) {
    out.pieces.emplace_back("0\r\n\r\n");
  }
  if (plan.split) {
    out.pieces = byteWrites(out.pieces);
  }
  return out;
}

}  // namespace dropd::fake_llm
