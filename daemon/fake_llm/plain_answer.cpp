#include "dropd/fake_llm/plain_answer.hpp"

#include <fmt/format.h>

#include "dropd/fake_llm/stream_answer.hpp"

namespace dropd::fake_llm {
namespace {

using Headers = std::vector<net::Header>;

const Headers kJson{{"Content-Type", "application/json"}};

// slow-body: the head, then the body 16 bytes per write.
std::vector<std::string> smallPieces(std::string head, const std::string& body) {
  std::vector<std::string> pieces{std::move(head)};
  for (std::size_t at = 0; at < body.size(); at += 16) {
    pieces.push_back(body.substr(at, 16));
  }
  return pieces;
}

// Three chunks, so that a client's chunk reassembly gets exercised.
std::vector<std::string> threeChunks(const std::string& body) {
  const std::size_t third = body.size() / 3;
  return {body.substr(0, third), body.substr(third, third), body.substr(2 * third)};
}

// oversize: a head that promises 1 TiB, then a little of the real body.
std::string oversizeStart(const std::string& body) {
  return net::responseHead(200, kJson, kOversizeContentLength, false) + body.substr(0, 16);
}

// chunk-ext: a whole chunked answer, each chunk-size line with two legal
// extensions, the second a quoted value holding a ';'.
std::string chunkedWithExtensions(int status, Headers headers, const std::string& body) {
  headers.push_back({"Transfer-Encoding", "chunked"});
  std::string out = net::responseHead(status, headers, 0, true);
  for (const std::string& chunk : threeChunks(body)) {
    if (!chunk.empty()) {  // an empty chunk would end the body early
      out += fmt::format("{:x};a=1;b=\"x;y\"\r\n", chunk.size()) + chunk + "\r\n";
    }
  }
  return out + "0;a=1;b=\"x;y\"\r\n\r\n";
}

}  // namespace

bool sendCutShort(const net::Responder& responder, const FaultPlan& plan, const std::string& body) {
  if (plan.terminal == FaultKind::kResetMidBody) {
    const std::string head = net::responseHead(200, kJson, body.size(), false);
    responder.sendRaw({head + body.substr(0, body.size() / 2)}, net::Responder::After::kReset);
    return true;
  }
  if (plan.terminal == FaultKind::kOversize) {
    responder.sendRaw({oversizeStart(body)}, net::Responder::After::kKeepOpen);
    return true;
  }
  return false;
}

void sendPlain(const net::Responder& responder, const FaultPlan& plan, PlainAnswer answer) {
  if (plan.terminal == FaultKind::kMalformedJson) {
    answer.body.resize(answer.body.size() / 2);  // valid HTTP, truncated JSON
  }
  if (plan.gzip && answer.status == 200 && !plan.terminal) {
    answer.headers.push_back({"Content-Encoding", "gzip"});
    answer.body = gzipBytes(answer.body);
  }
  if (plan.chunk_ext) {
    responder.sendRaw(
        {chunkedWithExtensions(answer.status, std::move(answer.headers), answer.body)},
        net::Responder::After::kKeepOpen);
  } else if (plan.slow_body && !plan.chunked) {
    responder.sendRaw(
        smallPieces(net::responseHead(answer.status, answer.headers, answer.body.size(), false),
                    answer.body),
        net::Responder::After::kKeepOpen);
  } else if (plan.chunked) {
    responder.sendChunked(answer.status, std::move(answer.headers), threeChunks(answer.body));
  } else {
    responder.send(answer.status, std::move(answer.headers), std::move(answer.body));
  }
}

}  // namespace dropd::fake_llm
