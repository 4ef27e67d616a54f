#include "net/client_connection.hpp"

#include <cassert>

#include "dropd/uv/tcp_listener.hpp"
#include "dropd/uv/tcp_stream.hpp"

namespace dropd::net::detail {

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

bool isGzip(const std::vector<Header>& headers) {
  const std::string* encoding = findHeader(headers, "Content-Encoding");
  return encoding != nullptr &&
         (equalsIgnoreCase(*encoding, "gzip") || equalsIgnoreCase(*encoding, "x-gzip"));
}

}  // namespace

ClientConnection::ClientConnection(uv_loop_t& loop, Owner& owner, ClientShared shared)
    : loop_(loop),
      owner_(owner),
      url_(shared.url),
      options_(shared.options),
      tls_(shared.tls),
      parser_(
          HttpParser::Kind::kResponse,
          ParserLimits{kMaxHeaderBytes, shared.options.max_response_bytes, "max_response_bytes"}) {}

Status ClientConnection::send(Exchange& exchange) {
  assert(state_ == State::kNew || state_ == State::kIdle);
  exchange_ = std::move(exchange);
  const bool fresh = state_ == State::kNew;
  state_ = State::kBusy;
  Status started = fresh ? resolve() : writeRequest();
  if (!started) {
    exchange = std::move(*exchange_);
    exchange_.reset();
    closeSocket();
  }
  return started;
}

std::optional<Exchange> ClientConnection::takeExchange() {
  std::optional<Exchange> out = std::move(exchange_);
  exchange_.reset();
  return out;
}

Status ClientConnection::resolve() {
  if (auto armed = armTimer(options_.connect_timeout); !armed) {
    return armed;
  }
  sockaddr_storage addr{};
  if (uv::parseIpAddress(peerHost(), peerPort(), addr)) {
    state_ = State::kConnecting;  // an IP literal needs no trip to the threadpool
    return startConnect({addr}, 0);
  }
  state_ = State::kResolving;
  auto resolver = uv::Resolver::start(loop_, peerHost(), peerPort(), [this](auto addrs) {
    resolver_.reset();
    if (!addrs || addrs->empty()) {
      const std::string what = options_.proxy.enabled() ? "proxy " + peerHost() : peerHost();
      fail(addrs ? Error{ErrorCode::kSystem, UV_EAI_NONAME, "getaddrinfo(" + what + ")"}
                 : addrs.error());
      return;
    }
    state_ = State::kConnecting;
    if (auto started = startConnect(std::move(*addrs), 0); !started) {
      fail(started.error());
    }
  });
  if (!resolver) {
    return tl::unexpected{resolver.error()};
  }
  resolver_.emplace(std::move(*resolver));
  return {};
}

Result<Transport> ClientConnection::newTransport() {
  auto stream = uv::TcpStream::create(loop_);
  if (!stream) {
    return tl::unexpected{stream.error()};
  }
  if (tls_ == nullptr) {
    return Transport{std::move(*stream), std::nullopt};
  }
  auto session = TlsSession::client(*tls_, url_.host, url_.authority());
  if (!session) {
    return tl::unexpected{session.error()};
  }
  // Through a proxy, TLS starts once the CONNECT tunnel is up.
  const auto start =
      options_.proxy.enabled() ? Transport::TlsStart::kLater : Transport::TlsStart::kAtRead;
  return Transport{std::move(*stream), std::move(*session), start};
}

Status ClientConnection::startConnect(std::vector<sockaddr_storage> addrs, std::size_t index) {
  auto transport = newTransport();  // a fresh TLS session for every address tried
  if (!transport) {
    return tl::unexpected{transport.error()};
  }
  stream_.emplace(std::move(*transport));
  const auto& addr = reinterpret_cast<const sockaddr&>(addrs[index]);
  return stream_->connect(addr, [this, addrs = std::move(addrs), index](Status connected) mutable {
    onConnected(connected, std::move(addrs), index);
  });
}

void ClientConnection::onConnected(Status status, std::vector<sockaddr_storage> addrs,
                                   std::size_t index) {
  if (!status && index + 1 < addrs.size()) {
    // Several addresses (IPv6 and IPv4, say): try the next before giving up.
    if (auto next = startConnect(std::move(addrs), index + 1); !next) {
      fail(next.error());
    }
    return;
  }
  if (!status) {
    Error error = status.error();
    error.context = "connect(" + peerName() + ")";
    fail(std::move(error));
    return;
  }
  state_ = State::kBusy;
  (void)stream_->setNoDelay(true);  // latency matters more than packet count here
  // With TLS this sends the hello (unless a tunnel comes first); the
  // request waits in the Transport until the handshake is done, under the
  // request deadline armed below.
  auto reading = stream_->startRead([this](Result<std::string_view> data) { onRead(data); });
  if (!reading) {
    fail(reading.error());
    return;
  }
  if (tls_ != nullptr && options_.proxy.enabled()) {
    if (auto started = startTunnel(); !started) {
      fail(started.error());
    }
    return;
  }
  if (auto written = writeRequest(); !written) {
    fail(written.error());
  }
}

Status ClientConnection::startTunnel() {
  state_ = State::kTunnelling;  // still under the connect deadline
  tunnel_.emplace(url_, options_.proxy);
  return stream_->write(tunnel_->request(), nullptr, [this](Status written) {
    if (!written && state_ == State::kTunnelling) {
      fail(written.error());
    }
  });
}

void ClientConnection::onTunnelRead(Result<std::string_view> data) {
  auto up = tunnel_->feed(*data);
  if (!up) {
    fail(up.error());
    return;
  }
  if (!*up) {
    return;  // more of the answer's head to come
  }
  tunnel_.reset();
  state_ = State::kBusy;
  if (auto started = stream_->startTls(); !started) {
    fail(started.error());
    return;
  }
  if (auto written = writeRequest(); !written) {
    fail(written.error());
  }
}

Status ClientConnection::writeRequest() {
  write_done_ = false;
  write_error_.reset();
  if (auto armed = armTimer(options_.request_timeout); !armed) {
    return armed;
  }
  if (auto armed = armReadGap(); !armed) {
    return armed;
  }
  // The head is copied (it is small) so that a retry can send it again.
  return stream_->write(exchange_->head, exchange_->body, [this](Status written) {
    write_done_ = true;
    if (!written && state_ == State::kBusy) {
      write_error_ = written.error();  // read on: an early answer may be there
    }
  });
}

void ClientConnection::onRead(Result<std::string_view> data) {
  if (!data) {
    onReadError(data.error());
    return;
  }
  if (state_ == State::kTunnelling) {
    onTunnelRead(data);
    return;
  }
  if (state_ != State::kBusy) {
    // Bytes nobody asked for: the server is confused, do not reuse.
    closeSocket();
    owner_.onIdleClosed(*this);
    return;
  }
  auto used = parser_.feed(*data);
  if (!used) {
    fail(used.error());
    return;
  }
  if (auto armed = armReadGap(); !armed) {
    fail(armed.error());
    return;
  }
  if (exchange_->on_body) {
    if (auto delivered = deliverBody(); !delivered) {
      fail(delivered.error());
      return;
    }
  }
  if (parser_.complete()) {
    onResponseComplete(*used == data->size());
  }
}

// A streamed (on_body) 2xx: the body read so far goes to the caller and is
// not kept. Other statuses are kept whole, for the error they carry.
// A gzip answer is inflated here, under the same max_response_bytes.
Status ClientConnection::deliverBody() {
  const int status = parser_.status();
  if (status < 200 || status > 299) {
    return {};
  }
  std::string piece = parser_.takeBodySoFar();
  if (!gzip_ && isGzip(parser_.headers())) {
    gzip_.emplace(options_.max_response_bytes, "max_response_bytes");
  }
  if (gzip_ && !piece.empty()) {
    auto plain = gzip_->feed(piece);
    if (!plain) {
      return tl::unexpected{plain.error()};
    }
    piece = std::move(*plain);
  }
  if (!piece.empty()) {
    exchange_->on_body(piece);
  }
  return {};
}

// A whole body in Content-Encoding: gzip, inflated in place; the gzip
// stream of an on_body answer must have ended.
Status ClientConnection::decodeWhole(ParsedMessage& message) const {
  if (gzip_) {
    return gzip_->finish();
  }
  if (!isGzip(message.headers)) {
    return {};
  }
  GzipDecoder decoder(options_.max_response_bytes, "max_response_bytes");
  auto plain = decoder.feed(message.body);
  if (!plain) {
    return tl::unexpected{plain.error()};
  }
  if (auto ended = decoder.finish(); !ended) {
    return ended;
  }
  message.body = std::move(*plain);
  return {};
}

void ClientConnection::onReadError(const Error& error) {
  if (state_ == State::kTunnelling) {
    fail(error.code != ErrorCode::kSystem
             ? error
             : Error{ErrorCode::kSystem, error.sys,
                     "read(" + peerName() + "): connection closed before the CONNECT answer"});
    return;
  }
  if (state_ != State::kBusy) {
    closeSocket();  // the server closed an idle connection: normal
    owner_.onIdleClosed(*this);
    return;
  }
  if (error.code != ErrorCode::kSystem) {
    fail(error);  // TLS: handshake, certificate or record failure, already worded
    return;
  }
  if (error.sys == UV_EOF && parser_.finish() && parser_.complete()) {
    if (auto delivered = exchange_->on_body ? deliverBody() : Status{}; !delivered) {
      fail(delivered.error());  // the end of a read-until-close body
      return;
    }
    if (!stream_->eofIsClean()) {
      // A body delimited by the end of the connection, and a TLS peer that
      // hung up without close_notify: nothing proves the body is whole.
      fail(Error{ErrorCode::kProtocol, 0,
                 "read(" + url_.authority() + "): TLS connection closed without close_notify, " +
                     "response may be truncated"});
      return;
    }
    onResponseComplete(false);  // a body delimited by the end of the connection
    return;
  }
  if (parser_.status() >= 400) {
    // An error answer cut short. A server that answers before it reads the
    // whole request (tinyproxy's 401 to a wrong proxy password, nginx's
    // 413) and closes is reset by its kernel for the bytes it left unread,
    // and the reset can take the end of its answer with it. The status is
    // the answer; the body only words it, so it is delivered as far as it
    // came (a 2xx body cut short still fails below: it is the content).
    onResponseComplete(false);
    return;
  }
  if (write_error_ && !parser_.started()) {
    fail(*write_error_);  // no early answer: the write's error says what went wrong
    return;
  }
  const char* what = parser_.started() ? "closed inside the response" : "closed before a response";
  fail(Error{ErrorCode::kSystem, error.sys, "read(" + url_.authority() + "): connection " + what});
}

void ClientConnection::onResponseComplete(bool reusable) {
  ParsedMessage message = parser_.take();
  ++served_;
  if (gap_timer_) {
    gap_timer_->stop();  // a late gap timeout must not fail the next request
  }
  const Status decoded = decodeWhole(message);
  gzip_.reset();
  if (!decoded) {
    fail(decoded.error());
    return;
  }
  Exchange exchange = std::move(*exchange_);
  exchange_.reset();
  // A response that came before our body was fully written leaves the
  // connection in an unknown state: never reuse it.
  if (reusable && message.keep_alive && write_done_ && !write_error_) {
    goIdle();
  } else {
    closeSocket();
  }
  HttpResponse response{message.status, std::move(message.headers), std::move(message.body)};
  owner_.onExchangeDone(*this, std::move(exchange), std::move(response));
}

// The read-gap deadline, (re)started at every read of the response; for a
// streamed (on_body) request also at its write, so that the wait for the
// first byte counts too. A plain request's wait for its answer to start is
// left to request_timeout: a server computing a whole completion before it
// sends a byte is normal, a stall inside an answer is not.
Status ClientConnection::armReadGap() {
  if (options_.read_idle_timeout.count() <= 0 || (!exchange_->on_body && !parser_.started())) {
    return {};
  }
  if (!gap_timer_) {
    auto timer = uv::Timer::create(loop_);
    if (!timer) {
      return tl::unexpected{timer.error()};
    }
    gap_timer_.emplace(std::move(*timer));
  }
  return gap_timer_->start(options_.read_idle_timeout, [this] {
    fail(Error{ErrorCode::kTimeout, 0,
               "request to " + url_.authority() + ": no byte for " +
                   std::to_string(options_.read_idle_timeout.count()) + " ms (read_idle_timeout)"});
  });
}

void ClientConnection::goIdle() {
  state_ = State::kIdle;
  if (!armTimer(options_.idle_timeout)) {
    closeSocket();  // no timer, no idle limit: better not to pool it
  }
}

void ClientConnection::onTimeout() {
  switch (state_) {
    case State::kResolving:
    case State::kConnecting:
      fail(Error{ErrorCode::kTimeout, 0, "connect(" + peerName() + "): timed out"});
      return;
    case State::kTunnelling:
      fail(Error{ErrorCode::kTimeout, 0,
                 "CONNECT " + url_.authority() + " via " + peerName() + ": timed out"});
      return;
    case State::kBusy:
      fail(Error{ErrorCode::kTimeout, 0, "request to " + url_.authority() + ": timed out"});
      return;
    case State::kIdle:
      closeSocket();
      owner_.onIdleClosed(*this);
      return;
    case State::kNew:
    case State::kClosed:
      return;
  }
}

void ClientConnection::fail(Error error) {
  // The keep-alive race: a pooled connection the server had already closed.
  // Only safe to retry when not a single byte of a response arrived.
  stale_failure_ = served_ > 0 && !parser_.started() && error.code == ErrorCode::kSystem;
  closeSocket();
  assert(exchange_.has_value());
  Exchange exchange = std::move(*exchange_);
  exchange_.reset();
  owner_.onExchangeDone(*this, std::move(exchange), tl::unexpected{std::move(error)});
}

void ClientConnection::closeSocket() noexcept {
  state_ = State::kClosed;
  resolver_.reset();
  tunnel_.reset();
  stream_.reset();  // may run inside this stream's own callback: that is allowed
  timer_.reset();
  gap_timer_.reset();
  gzip_.reset();
}

const std::string& ClientConnection::peerHost() const noexcept {
  return options_.proxy.enabled() ? options_.proxy.host : url_.host;
}

int ClientConnection::peerPort() const noexcept {
  return options_.proxy.enabled() ? options_.proxy.port : url_.port;
}

std::string ClientConnection::peerName() const {
  return options_.proxy.enabled() ? proxyName(options_.proxy) : url_.authority();
}

Status ClientConnection::armTimer(std::chrono::milliseconds timeout) {
  if (!timer_) {
    auto timer = uv::Timer::create(loop_);
    if (!timer) {
      return tl::unexpected{timer.error()};
    }
    timer_.emplace(std::move(*timer));
  }
  return timer_->start(timeout, [this] { onTimeout(); });
}

}  // namespace dropd::net::detail
