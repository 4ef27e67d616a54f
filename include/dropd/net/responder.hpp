#pragma once

// The way a handler answers one ServerRequest, now or later (after a timer).
// Loop thread only. Copyable; the first answer wins and later ones are
// ignored. If the connection is gone by then (client hung up, server
// closed), answering is a no-op. Never answering leaves the client hanging
// until it gives up or the server closes: that is what "hang" faults use.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dropd/net/http_message.hpp"
#include "dropd/net/response_stream.hpp"

namespace dropd::net {

namespace detail {
class ServerConnection;
}

class Responder {
 public:
  // What happens to the connection after raw bytes were written.
  enum class After { kKeepOpen, kClose, kReset };

  Responder() = default;  // answers nothing
  Responder(std::weak_ptr<detail::ServerConnection> conn, std::uint64_t request_id);

  // A normal response with Content-Length framing.
  void send(int status, std::vector<Header> headers, std::string body) const;
  // A response with chunked framing, one chunk per element.
  void sendChunked(int status, std::vector<Header> headers,
                   const std::vector<std::string>& chunks) const;
  // Bytes exactly as given, one write per piece, each piece only after the
  // previous one was written (so a client sees them as separate reads as far
  // as TCP allows). For malformed answers and split-point tests.
  void sendRaw(std::vector<std::string> pieces, After after) const;

  // A response whose body follows over time, in chunks (see
  // response_stream.hpp). The head goes out now; an empty stream comes back
  // if this request was already answered or its connection is gone.
  [[nodiscard]] ResponseStream startStream(int status, std::vector<Header> headers) const;

  // True while the connection is up and this request not answered yet.
  [[nodiscard]] bool pending() const;

 private:
  std::weak_ptr<detail::ServerConnection> conn_;
  std::uint64_t request_id_ = 0;
};

// "HTTP/1.1 200 OK\r\n" + headers + Content-Length (unless chunked) + blank line.
[[nodiscard]] std::string responseHead(int status, const std::vector<Header>& headers,
                                       std::size_t content_length, bool chunked);

}  // namespace dropd::net
