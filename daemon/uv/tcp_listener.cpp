#include "dropd/uv/tcp_listener.hpp"

#include <netinet/in.h>

#include "uv/handle_close.hpp"

namespace dropd::uv {

namespace detail {
struct ListenerState {
  uv_tcp_t raw{};
  TcpListener::AcceptFn cb;
  bool closing = false;
};
}  // namespace detail

namespace {

using detail::ListenerState;

constexpr int kBacklog = 511;  // what nginx and libuv's own benchmarks use

void onConnection(uv_stream_t* server, int status) noexcept {
  auto* state = static_cast<ListenerState*>(server->data);
  if (state->closing) {
    return;
  }
  if (status < 0) {
    state->cb(uvError(status, "uv_listen"));
    return;
  }
  auto stream = TcpStream::create(*server->loop);
  if (!stream) {
    state->cb(tl::unexpected{stream.error()});
    return;
  }
  if (const int rc = uv_accept(server, stream->rawForAccept()); rc < 0) {
    state->cb(uvError(rc, "uv_accept"));
    return;
  }
  state->cb(std::move(stream));  // may destroy the listener
}

}  // namespace

Status parseIpAddress(const std::string& host, int port, sockaddr_storage& out) {
  out = {};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0) {
    return {};
  }
  if (const int rc = uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out));
      rc < 0) {
    return makeError(ErrorCode::kInvalid, "not an IP address: " + host);
  }
  return {};
}

Result<TcpListener> TcpListener::listen(uv_loop_t& loop, const std::string& host, int port,
                                        AcceptFn cb) {
  sockaddr_storage addr{};
  if (auto parsed = parseIpAddress(host, port, addr); !parsed) {
    return tl::unexpected{parsed.error()};
  }
  auto state = std::make_unique<ListenerState>();
  if (const int rc = uv_tcp_init(&loop, &state->raw); rc < 0) {
    return uvError(rc, "uv_tcp_init");
  }
  state->raw.data = state.get();
  state->cb = std::move(cb);
  TcpListener listener{std::move(state)};  // from here on closing needs uv_close
  const std::string where = host + ":" + std::to_string(port);
  auto& raw = listener.state_->raw;
  if (const int rc = uv_tcp_bind(&raw, reinterpret_cast<const sockaddr*>(&addr), 0); rc < 0) {
    return uvError(rc, "uv_tcp_bind(" + where + ")");
  }
  if (const int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&raw), kBacklog, onConnection);
      rc < 0) {
    return uvError(rc, "uv_listen(" + where + ")");
  }
  return listener;
}

TcpListener::TcpListener(std::unique_ptr<ListenerState> state) noexcept
    : state_(std::move(state)) {}
TcpListener::TcpListener(TcpListener&& other) noexcept = default;
TcpListener::~TcpListener() { close(); }

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

int TcpListener::port() const noexcept {
  if (!state_) {
    return 0;
  }
  sockaddr_storage addr{};
  int len = sizeof(addr);
  if (uv_tcp_getsockname(&state_->raw, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return 0;
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

void TcpListener::close() noexcept { detail::closeState(std::move(state_)); }

}  // namespace dropd::uv
