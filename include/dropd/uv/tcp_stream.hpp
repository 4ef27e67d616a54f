#pragma once

// Owns one connected (or connecting) uv_tcp_t. Loop thread only.
//
// Every callback may destroy the TcpStream. Once the stream is closed no user
// callback runs again: a pending connect or write is cancelled by libuv and
// its callback is swallowed here, while the write's buffers are still freed.
// Reads land in a buffer owned by the stream: the string_view handed to the
// read callback is valid only during that call, and the read callback must
// not call startRead() itself.

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct TcpState;
}

class TcpStream {
 public:
  // Bytes received, or an error: sys == UV_EOF when the peer closed cleanly.
  using ReadFn = std::function<void(Result<std::string_view>)>;
  using DoneFn = std::function<void(Status)>;

  [[nodiscard]] static Result<TcpStream> create(uv_loop_t& loop);

  TcpStream(TcpStream&& other) noexcept;
  TcpStream& operator=(TcpStream&& other) noexcept;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;
  ~TcpStream();

  [[nodiscard]] Status connect(const sockaddr& addr, DoneFn cb);
  [[nodiscard]] Status startRead(ReadFn cb);
  void stopRead() noexcept;
  // Sends `head` then `body` (may be null) with one uv_write of two buffers.
  // The write request keeps both alive until it completes, so the caller may
  // drop its own reference at once. `cb` (may be empty) reports completion.
  [[nodiscard]] Status write(std::string head, std::shared_ptr<const std::string> body, DoneFn cb);
  [[nodiscard]] Status setNoDelay(bool enable) noexcept;
  // Bytes queued in libuv that the kernel has not taken yet.
  [[nodiscard]] std::size_t writeQueueSize() const noexcept;
  // Peer's address as text ("127.0.0.1"), empty if unknown.
  [[nodiscard]] std::string peerAddress() const;

  void close() noexcept;
  // Abortive close: the peer sees a connection reset (RST), not a FIN.
  void closeReset() noexcept;

  // For TcpListener: the raw handle to uv_accept() into.
  [[nodiscard]] uv_stream_t* rawForAccept() noexcept;

 private:
  explicit TcpStream(std::unique_ptr<detail::TcpState> state) noexcept;
  std::unique_ptr<detail::TcpState> state_;  // null once moved from or closed
};

}  // namespace dropd::uv
