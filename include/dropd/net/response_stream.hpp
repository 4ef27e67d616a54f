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

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dropd::net {

namespace detail {
class ServerConnection;
}

class ResponseStream {
 public:
  ResponseStream() = default;  // writes nothing, never open
  ResponseStream(std::weak_ptr<detail::ServerConnection> conn, std::uint64_t request_id);

  // One chunk; an empty `data` is skipped (it would end the body).
  void write(std::string data) const;
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
