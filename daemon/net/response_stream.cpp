#include "dropd/net/response_stream.hpp"

#include <fmt/format.h>

#include "net/server_connection.hpp"

namespace dropd::net {

StreamChunk::StreamChunk(std::string_view data) {
  if (data.empty()) {
    return;
  }
  wire_.reserve(data.size() + 20);  // 16 hex digits at most, two CRLFs
  fmt::format_to(std::back_inserter(wire_), "{:x}\r\n", data.size());
  data_offset_ = wire_.size();
  wire_.append(data).append("\r\n");
}

std::string_view StreamChunk::data() const noexcept {
  return wire_.empty()
             ? std::string_view{}
             : std::string_view{wire_}.substr(data_offset_, wire_.size() - data_offset_ - 2);
}

ResponseStream::ResponseStream(std::weak_ptr<detail::ServerConnection> conn,
                               std::uint64_t request_id)
    : conn_(std::move(conn)), request_id_(request_id) {}

void ResponseStream::write(std::string_view data) const {
  if (!data.empty()) {
    write(std::make_shared<const StreamChunk>(data));
  }
}

void ResponseStream::write(std::shared_ptr<const StreamChunk> chunk) const {
  if (!chunk || chunk->wire().empty()) {
    return;
  }
  if (const auto conn = conn_.lock()) {
    // The aliasing constructor: the write holds the chunk, and sees its bytes.
    const std::string& wire = chunk->wire();
    (void)conn->streamWrite(request_id_,
                            std::shared_ptr<const std::string>(std::move(chunk), &wire));
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
