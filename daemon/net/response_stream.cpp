#include "dropd/net/response_stream.hpp"

#include <fmt/format.h>

#include "net/server_connection.hpp"

namespace dropd::net {

ResponseStream::ResponseStream(std::weak_ptr<detail::ServerConnection> conn,
                               std::uint64_t request_id)
    : conn_(std::move(conn)), request_id_(request_id) {}

void ResponseStream::write(std::string data) const {
  if (data.empty()) {
    return;
  }
  if (const auto conn = conn_.lock()) {
    std::string chunk = fmt::format("{:x}\r\n", data.size());
    chunk += data;
    chunk += "\r\n";
    (void)conn->streamWrite(request_id_, std::move(chunk));
  }
}

void ResponseStream::end() const {
  if (const auto conn = conn_.lock()) {
    (void)conn->streamEnd(request_id_);
  }
}

void ResponseStream::close() const {
  const auto conn = conn_.lock();
  if (conn && conn->streaming(request_id_)) {
    conn->closeNow();
  }
}

bool ResponseStream::open() const {
  const auto conn = conn_.lock();
  return conn && conn->streaming(request_id_);
}

std::size_t ResponseStream::queuedBytes() const {
  const auto conn = conn_.lock();
  return conn && conn->streaming(request_id_) ? conn->queuedBytes() : 0;
}

}  // namespace dropd::net
