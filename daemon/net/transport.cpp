#include "net/transport.hpp"

#include <vector>

#include "dropd/uv/check.hpp"

namespace dropd::net::detail {

namespace {

// A write that came before the end of the handshake.
struct HeldWrite {
  std::string head;
  std::shared_ptr<const std::string> body;
  Transport::DoneFn cb;
};

}  // namespace

struct TransportState {
  TransportState(uv::TcpStream s, std::optional<TlsSession> t, bool later)
      : stream(std::move(s)), tls(std::move(t)), tls_later(later && tls.has_value()) {}

  // TLS carries the bytes: there is a session and startTls() is not awaited.
  [[nodiscard]] bool tlsActive() const noexcept { return tls && !tls_later; }

  uv::TcpStream stream;
  std::optional<TlsSession> tls;
  bool tls_later;  // plaintext until startTls() (a proxy's CONNECT first)
  Transport::ReadFn read_cb;
  std::vector<HeldWrite> held;
  int delivering = 0;       // read callbacks on the stack
  bool closed = false;      // closed from inside one: the outermost frees the state
  bool read_ended = false;  // EOF, error or close_notify seen: no more reads, no close_notify
};

namespace {

// Hands `data` to the user. A callback may close the Transport: the state
// then waits for us to free it (h2o's delayed free), since the callback
// object itself lives in it. False if that happened: touch nothing.
bool deliver(TransportState* s, Result<std::string_view> data) {
  ++s->delivering;
  s->read_cb(std::move(data));
  if (--s->delivering == 0 && s->closed) {
    const std::unique_ptr<TransportState> reclaimed{s};
    return false;
  }
  return !s->closed;
}

Status sealAndWrite(TransportState& s, std::string_view head, const std::string* body,
                    Transport::DoneFn cb) {
  std::string wire;
  if (auto sealed = s.tls->seal(head, wire); !sealed) {
    return sealed;
  }
  if (body != nullptr) {
    if (auto sealed = s.tls->seal(*body, wire); !sealed) {
      return sealed;
    }
  }
  return s.stream.write(std::move(wire), nullptr, std::move(cb));
}

// Sends the writes held for the handshake once it is done, and whatever
// the session has queued (its handshake flight, an alert, tickets).
Status flushSession(TransportState& s) {
  if (s.tls->established() && !s.held.empty()) {
    std::vector<HeldWrite> held = std::move(s.held);
    s.held.clear();
    for (HeldWrite& w : held) {
      if (auto sent = sealAndWrite(s, w.head, w.body.get(), std::move(w.cb)); !sent) {
        return sent;
      }
    }
  }
  std::string wire;
  s.tls->flush(wire);
  if (wire.empty()) {
    return {};
  }
  return s.stream.write(std::move(wire), nullptr, nullptr);
}

void onTlsRead(TransportState* s, std::string_view wire) {
  std::string plaintext;
  const Status received = s->tls->receive(wire, plaintext);
  // Flush even after a failure: the alert tells the peer what went wrong.
  const Status flushed = flushSession(*s);
  if (!received || !flushed) {
    s->read_ended = true;
    (void)deliver(s, tl::unexpected{!received ? received.error() : flushed.error()});
    return;
  }
  if (!plaintext.empty() && !deliver(s, std::string_view{plaintext})) {
    return;
  }
  if (s->tls->peerClosed() && !s->read_ended) {
    s->read_ended = true;
    s->stream.stopRead();
    (void)deliver(s, uvError(UV_EOF, "uv_read"));
  }
}

void onRead(TransportState* s, Result<std::string_view> data) {
  if (s->read_ended) {
    return;  // the TCP end after a close_notify that was reported already
  }
  if (!s->tlsActive() || !data) {
    s->read_ended = !data;
    (void)deliver(s, std::move(data));
    return;
  }
  onTlsRead(s, *data);
}

// Frees the state now, or leaves that to deliver() if a callback is running.
void release(TransportState* s) noexcept {
  if (s->delivering > 0) {
    s->closed = true;
    return;
  }
  const std::unique_ptr<TransportState> reclaimed{s};
}

}  // namespace

Transport::Transport(uv::TcpStream stream, std::optional<TlsSession> tls, TlsStart start)
    : state_(std::make_unique<TransportState>(std::move(stream), std::move(tls),
                                              start == TlsStart::kLater)) {}

Transport::Transport(Transport&& other) noexcept = default;

Transport& Transport::operator=(Transport&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Transport::~Transport() { close(); }

Status Transport::connect(const sockaddr& addr, DoneFn cb) {
  DROPD_CHECK(state_ != nullptr, "Transport used after close");
  return state_->stream.connect(addr, std::move(cb));
}

Status Transport::startRead(ReadFn cb) {
  DROPD_CHECK(state_ != nullptr, "Transport used after close");
  TransportState* s = state_.get();  // stable, unlike `this`: Transports move
  s->read_cb = std::move(cb);
  auto reading = s->stream.startRead([s](Result<std::string_view> data) { onRead(s, data); });
  if (!reading || !s->tlsActive()) {
    return reading;
  }
  if (auto started = s->tls->start(); !started) {
    return started;
  }
  return flushSession(*s);
}

Status Transport::startTls() {
  DROPD_CHECK(state_ != nullptr && state_->tls && state_->tls_later, "Transport::startTls misuse");
  TransportState& s = *state_;
  s.tls_later = false;
  if (auto started = s.tls->start(); !started) {
    return started;
  }
  return flushSession(s);
}

Status Transport::write(std::string head, std::shared_ptr<const std::string> body, DoneFn cb) {
  DROPD_CHECK(state_ != nullptr, "Transport used after close");
  TransportState& s = *state_;
  if (!s.tlsActive()) {
    return s.stream.write(std::move(head), std::move(body), std::move(cb));
  }
  if (!s.tls->established()) {
    s.held.push_back({std::move(head), std::move(body), std::move(cb)});
    return {};
  }
  return sealAndWrite(s, head, body.get(), std::move(cb));
}

Status Transport::setNoDelay(bool enable) noexcept {
  DROPD_CHECK(state_ != nullptr, "Transport used after close");
  return state_->stream.setNoDelay(enable);
}

std::string Transport::peerAddress() const { return state_ ? state_->stream.peerAddress() : ""; }

std::size_t Transport::writeQueueSize() const noexcept {
  return state_ ? state_->stream.writeQueueSize() : 0;
}

bool Transport::eofIsClean() const noexcept {
  return !state_ || !state_->tlsActive() || state_->tls->peerClosed();
}

void Transport::close() noexcept {
  if (!state_) {
    return;
  }
  TransportState* s = state_.release();
  if (s->tlsActive() && !s->read_ended) {
    // Best effort: uv_write tries the socket at once, before uv_close below
    // cancels what is still queued.
    std::string wire;
    s->tls->closeNotify(wire);
    if (!wire.empty()) {
      (void)s->stream.write(std::move(wire), nullptr, nullptr);
    }
  }
  s->stream.close();
  release(s);
}

void Transport::closeReset() noexcept {
  if (!state_) {
    return;
  }
  TransportState* s = state_.release();
  s->stream.closeReset();
  release(s);
}

}  // namespace dropd::net::detail
