#include "dropd/uv/tcp_stream.hpp"

#include <array>

#include "dropd/uv/check.hpp"

#include "uv/handle_close.hpp"

namespace dropd::uv {

namespace detail {
struct TcpState {
  uv_tcp_t raw{};
  uv_connect_t connect_req{};
  TcpStream::DoneFn connect_cb;
  TcpStream::ReadFn read_cb;
  bool closing = false;
  // One read buffer per stream: the data is consumed inside the callback.
  std::array<char, 64 * 1024> read_buf{};
};
}  // namespace detail

namespace {

using detail::TcpState;

// Owns what one uv_write needs until libuv is done with it.
struct WriteReq {
  uv_write_t req{};
  std::string head;
  std::shared_ptr<const std::string> body;
  TcpStream::DoneFn cb;
};

TcpState* stateOf(uv_stream_t* stream) noexcept { return static_cast<TcpState*>(stream->data); }

void onConnect(uv_connect_t* req, int status) noexcept {
  auto* state = stateOf(req->handle);
  if (state->closing) {
    return;  // UV_ECANCELED after close(): nobody is listening any more
  }
  const TcpStream::DoneFn cb = std::move(state->connect_cb);
  cb(status < 0 ? Status{uvError(status, "uv_tcp_connect")} : Status{});
}

void onAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* state = static_cast<TcpState*>(handle->data);
  *buf = uv_buf_init(state->read_buf.data(), static_cast<unsigned>(state->read_buf.size()));
}

void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) noexcept {
  auto* state = stateOf(stream);
  if (state->closing || nread == 0) {
    return;  // 0 is EAGAIN in libuv's terms: nothing to report
  }
  if (nread < 0) {
    state->read_cb(uvError(static_cast<int>(nread), "uv_read"));
    return;
  }
  state->read_cb(std::string_view{state->read_buf.data(), static_cast<std::size_t>(nread)});
}

void onWrite(uv_write_t* req, int status) noexcept {
  const std::unique_ptr<WriteReq> owned{static_cast<WriteReq*>(req->data)};
  if (stateOf(req->handle)->closing || !owned->cb) {
    return;
  }
  owned->cb(status < 0 ? Status{uvError(status, "uv_write")} : Status{});
}

}  // namespace

Result<TcpStream> TcpStream::create(uv_loop_t& loop) {
  auto state = std::make_unique<TcpState>();
  if (const int rc = uv_tcp_init(&loop, &state->raw); rc < 0) {
    return uvError(rc, "uv_tcp_init");
  }
  state->raw.data = state.get();
  return TcpStream{std::move(state)};
}

TcpStream::TcpStream(std::unique_ptr<TcpState> state) noexcept : state_(std::move(state)) {}
TcpStream::TcpStream(TcpStream&& other) noexcept = default;
TcpStream::~TcpStream() { close(); }

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Status TcpStream::connect(const sockaddr& addr, DoneFn cb) {
  DROPD_CHECK(state_ != nullptr, "TcpStream used after close");
  state_->connect_cb = std::move(cb);
  if (const int rc = uv_tcp_connect(&state_->connect_req, &state_->raw, &addr, onConnect); rc < 0) {
    return uvError(rc, "uv_tcp_connect");
  }
  return {};
}

Status TcpStream::startRead(ReadFn cb) {
  DROPD_CHECK(state_ != nullptr, "TcpStream used after close");
  state_->read_cb = std::move(cb);
  auto* stream = reinterpret_cast<uv_stream_t*>(&state_->raw);
  if (const int rc = uv_read_start(stream, onAlloc, onRead); rc < 0) {
    return uvError(rc, "uv_read_start");
  }
  return {};
}

void TcpStream::stopRead() noexcept {
  if (state_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&state_->raw));
  }
}

Status TcpStream::write(std::string head, std::shared_ptr<const std::string> body, DoneFn cb) {
  DROPD_CHECK(state_ != nullptr, "TcpStream used after close");
  auto req = std::make_unique<WriteReq>();
  req->head = std::move(head);
  req->body = std::move(body);
  req->cb = std::move(cb);
  req->req.data = req.get();
  std::array<uv_buf_t, 2> bufs{};
  unsigned count = 0;
  if (!req->head.empty()) {
    bufs[count++] = uv_buf_init(req->head.data(), static_cast<unsigned>(req->head.size()));
  }
  if (req->body && !req->body->empty()) {
    // libuv never writes through the pointer; uv_buf_t is just not const.
    char* data = const_cast<char*>(req->body->data());
    bufs[count++] = uv_buf_init(data, static_cast<unsigned>(req->body->size()));
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&state_->raw);
  if (const int rc = uv_write(&req->req, stream, bufs.data(), count, onWrite); rc < 0) {
    return uvError(rc, "uv_write");
  }
  (void)req.release();  // owned by libuv until onWrite
  return {};
}

Status TcpStream::setNoDelay(bool enable) noexcept {
  DROPD_CHECK(state_ != nullptr, "TcpStream used after close");
  if (const int rc = uv_tcp_nodelay(&state_->raw, enable ? 1 : 0); rc < 0) {
    return uvError(rc, "uv_tcp_nodelay");
  }
  return {};
}

std::size_t TcpStream::writeQueueSize() const noexcept {
  return state_ ? state_->raw.write_queue_size : 0;
}

std::string TcpStream::peerAddress() const {
  if (!state_) {
    return {};
  }
  sockaddr_storage addr{};
  int len = sizeof(addr);
  if (uv_tcp_getpeername(&state_->raw, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return {};
  }
  std::array<char, 64> text{};
  const int rc = addr.ss_family == AF_INET6
                     ? uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&addr), text.data(), text.size())
                     : uv_ip4_name(reinterpret_cast<sockaddr_in*>(&addr), text.data(), text.size());
  return rc < 0 ? std::string{} : std::string{text.data()};
}

void TcpStream::close() noexcept { detail::closeState(std::move(state_)); }

void TcpStream::closeReset() noexcept {
  if (!state_) {
    return;
  }
  TcpState* owned_by_libuv = state_.release();
  owned_by_libuv->closing = true;
  const auto on_close = [](uv_handle_t* raw) noexcept {
    const std::unique_ptr<TcpState> reclaimed{static_cast<TcpState*>(raw->data)};
  };
  if (uv_tcp_close_reset(&owned_by_libuv->raw, on_close) < 0) {
    // Not connected (or shut down already): an ordinary close does.
    uv_close(reinterpret_cast<uv_handle_t*>(&owned_by_libuv->raw), on_close);
  }
}

uv_stream_t* TcpStream::rawForAccept() noexcept {
  DROPD_CHECK(state_ != nullptr, "TcpStream used after close");
  return reinterpret_cast<uv_stream_t*>(&state_->raw);
}

}  // namespace dropd::uv
