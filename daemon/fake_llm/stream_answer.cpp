#include "dropd/fake_llm/stream_answer.hpp"

#include <zlib.h>

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

// All the events as one gzip stream, in three chunks.
std::vector<std::string> gzipChunks(const std::vector<std::string>& events) {
  std::string all;
  for (const std::string& e : events) {
    all += e;
  }
  const std::string packed = gzipBytes(all);
  const std::size_t third = packed.size() / 3 + 1;
  std::vector<std::string> out;
  for (std::size_t at = 0; at < packed.size(); at += third) {
    out.push_back(chunk(packed.substr(at, third)));
  }
  return out;
}

}  // namespace

std::string gzipBytes(std::string_view bytes) {
  z_stream z{};
  // 16 + MAX_WBITS: a gzip wrapper. Level 6, zlib's default.
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  (void)deflate(&z, Z_FINISH);  // the bound makes one call enough
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

StreamWrites streamWrites(const std::vector<std::string>& events, const FaultPlan& plan,
                          std::vector<net::Header> headers) {
  const bool faulted = plan.terminal == FaultKind::kStreamCut ||
                       plan.terminal == FaultKind::kStreamError ||
                       plan.terminal == FaultKind::kStall;
  headers.insert(headers.begin(), {{"Content-Type", "text/event-stream"},
                                   {"Cache-Control", "no-cache"},
                                   {"Transfer-Encoding", "chunked"}});
  if (plan.gzip && !faulted) {
    headers.push_back({"Content-Encoding", "gzip"});
  }
  StreamWrites out;
  out.pieces.push_back(net::responseHead(200, headers, 0, true));
  if (plan.gzip && !faulted) {
    for (std::string& c : gzipChunks(events)) {
      out.pieces.push_back(std::move(c));
    }
    out.pieces.emplace_back("0\r\n\r\n");
    out.pieces = plan.split ? byteWrites(out.pieces) : std::move(out.pieces);
    return out;
  }
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
