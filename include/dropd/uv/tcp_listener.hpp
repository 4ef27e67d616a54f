#pragma once

// Owns one listening uv_tcp_t. Loop thread only. Each accepted connection is
// handed over as a TcpStream the callback then owns. The callback may destroy
// the listener.

#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/uv/tcp_stream.hpp"

namespace dropd::uv {

namespace detail {
struct ListenerState;
}

class TcpListener {
 public:
  using AcceptFn = std::function<void(Result<TcpStream>)>;

  // Binds `host` (an IPv4 or IPv6 literal) and `port` (0 picks a free one)
  // and starts listening. Errors name the call: "uv_tcp_bind(127.0.0.1:80)".
  [[nodiscard]] static Result<TcpListener> listen(uv_loop_t& loop, const std::string& host,
                                                  int port, AcceptFn cb);

  TcpListener(TcpListener&& other) noexcept;
  TcpListener& operator=(TcpListener&& other) noexcept;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  ~TcpListener();

  // The bound port (the real one when 0 was asked for), 0 once closed.
  [[nodiscard]] int port() const noexcept;
  void close() noexcept;

 private:
  explicit TcpListener(std::unique_ptr<detail::ListenerState> state) noexcept;
  std::unique_ptr<detail::ListenerState> state_;
};

// Parses an IPv4 or IPv6 literal and port into `out`.
[[nodiscard]] Status parseIpAddress(const std::string& host, int port, sockaddr_storage& out);

}  // namespace dropd::uv
