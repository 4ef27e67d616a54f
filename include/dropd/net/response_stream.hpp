#pragma once

// The body of one response that is written over time (text/event-stream):
// Responder::startStream() writes the head with chunked framing, then each
// write() sends one chunk, and end() the last one. Loop thread only.
// Copyable handle; every call is a no-op once the connection is gone (the
// client left or the server closed it), which open() tells.
//
// The server never waits for a slow reader: write() always queues. A caller
// that must bound its memory reads queuedBytes() (bytes the kernel has not
// taken yet) and close()s a reader that falls too far behind.
//
// A body sent to many clients at once (GET /events) is framed once as a
// StreamChunk and written to each stream by reference: one uv_write per
// stream, and no copy of the bytes per stream.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dropd::net {

namespace detail {
class ServerConnection;
}

// One chunk of a chunked body (RFC 9112 §7.1), framed once: its size line,
// the data and the CRLF after it, in one immutable buffer. Shared through a
// shared_ptr by every stream it is written to (each write holds a
// reference until libuv is done with it). Any thread; immutable.
class StreamChunk {
 public:
  // An empty `data` makes a chunk that writes nothing: a zero-size chunk
  // would end the body.
  explicit StreamChunk(std::string_view data);
  // The bytes on the wire, framing included ("" for an empty chunk).
  [[nodiscard]] const std::string& wire() const noexcept { return wire_; }
  // The data without the framing.
  [[nodiscard]] std::string_view data() const noexcept;

 private:
  std::string wire_;
  std::size_t data_offset_ = 0;  // past the size line
};

class ResponseStream {
 public:
  ResponseStream() = default;  // writes nothing, never open
  ResponseStream(std::weak_ptr<detail::ServerConnection> conn, std::uint64_t request_id);

  // One chunk; an empty `data` is skipped (it would end the body).
  void write(std::string_view data) const;
  // The same chunk, shared: written by reference, never copied.
  void write(std::shared_ptr<const StreamChunk> chunk) const;
  // The last chunk; the connection then serves its next request or closes.
  void end() const;
  // Drops the connection now, without ending the body.
  void close() const;

  [[nodiscard]] bool open() const;
  [[nodiscard]] std::size_t queuedBytes() const;

 private:
  std::weak_ptr<detail::ServerConnection> conn_;
  std::uint64_t request_id_ = 0;
};

}  // namespace dropd::net
