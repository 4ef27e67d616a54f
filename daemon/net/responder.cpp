#include "dropd/net/responder.hpp"

#include <fmt/format.h>

#include "net/server_connection.hpp"

namespace dropd::net {

Responder::Responder(std::weak_ptr<detail::ServerConnection> conn, std::uint64_t request_id)
    : conn_(std::move(conn)), request_id_(request_id) {}

void Responder::send(int status, std::vector<Header> headers, std::string body) const {
  if (const auto conn = conn_.lock()) {
    (void)conn->respond(request_id_,
                        detail::Answer{status, std::move(headers), std::move(body), false});
  }
}

void Responder::sendChunked(int status, std::vector<Header> headers,
                            const std::vector<std::string>& chunks) const {
  const auto conn = conn_.lock();
  if (!conn) {
    return;
  }
  std::string body;
  for (const std::string& chunk : chunks) {
    if (!chunk.empty()) {  // an empty chunk would end the body early
      body += fmt::format("{:x}\r\n", chunk.size());
      body += chunk;
      body += "\r\n";
    }
  }
  body += "0\r\n\r\n";
  headers.push_back({"Transfer-Encoding", "chunked"});
  (void)conn->respond(request_id_,
                      detail::Answer{status, std::move(headers), std::move(body), true});
}

void Responder::sendRaw(std::vector<std::string> pieces, After after) const {
  if (const auto conn = conn_.lock()) {
    (void)conn->respondRaw(request_id_, std::move(pieces), after);
  }
}

ResponseStream Responder::startStream(int status, std::vector<Header> headers) const {
  const auto conn = conn_.lock();
  if (!conn) {
    return {};
  }
  headers.push_back({"Transfer-Encoding", "chunked"});
  if (!conn->startStream(request_id_, status, std::move(headers))) {
    return {};
  }
  return ResponseStream{conn_, request_id_};
}

bool Responder::pending() const {
  const auto conn = conn_.lock();
  return conn && conn->awaiting(request_id_);
}

std::string responseHead(int status, const std::vector<Header>& headers, std::size_t content_length,
                         bool chunked) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, reasonPhrase(status));
  for (const Header& h : headers) {
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  if (!chunked) {
    head += fmt::format("Content-Length: {}\r\n", content_length);
  }
  head += "\r\n";
  return head;
}

}  // namespace dropd::net
