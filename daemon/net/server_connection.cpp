#include "net/server_connection.hpp"

namespace dropd::net::detail {

ServerConnection::ServerConnection(std::uint64_t id, Transport stream, ParserLimits limits)
    : id_(id), stream_(std::move(stream)), parser_(HttpParser::Kind::kRequest, limits) {}

Status ServerConnection::start(const Handler& handler, ClosedFn on_closed) {
  handler_ = &handler;
  on_closed_ = std::move(on_closed);
  peer_address_ = stream_->peerAddress();
  (void)stream_->setNoDelay(true);  // answers are small and latency-bound
  return stream_->startRead([this](Result<std::string_view> data) { onRead(data); });
}

void ServerConnection::onRead(Result<std::string_view> data) {
  const auto self = shared_from_this();  // a handler may close us synchronously
  if (!data) {
    closeNow();  // the client left (EOF or reset): nothing to answer to
    return;
  }
  if (awaiting_id_ != 0 || in_consume_) {
    pending_.append(*data);  // a pipelined request: its turn comes after the answer
    return;
  }
  consume(*data);
}

void ServerConnection::consume(std::string_view data) {
  in_consume_ = true;
  while (stream_ && awaiting_id_ == 0 && !data.empty()) {
    auto used = parser_.feed(data);
    if (!used) {
      in_consume_ = false;
      answerError(parser_.tooLarge() ? 413 : 400, used.error().context);
      return;
    }
    data.remove_prefix(*used);
    if (parser_.complete()) {
      dispatch();  // may answer at once, in which case the loop goes on
    }
  }
  if (stream_ && !data.empty()) {
    pending_.append(data);
  }
  in_consume_ = false;
}

void ServerConnection::dispatch() {
  ParsedMessage message = parser_.take();
  keep_alive_ = message.keep_alive;
  awaiting_id_ = next_request_id_++;
  ServerRequest request{std::move(message.method), std::move(message.target),
                        std::move(message.headers), std::move(message.body), peer_address_};
  (*handler_)(std::move(request), Responder{weak_from_this(), awaiting_id_});
}

void ServerConnection::answerError(int status, std::string_view message) {
  keep_alive_ = false;  // the parser is broken: this connection is done
  awaiting_id_ = next_request_id_++;
  (void)respond(
      awaiting_id_,
      Answer{status, {{"Content-Type", "text/plain"}}, std::string(message) + "\n", false});
}

bool ServerConnection::awaiting(std::uint64_t request_id) const noexcept {
  return stream_ && request_id != 0 && request_id == awaiting_id_ && !streaming_;
}

bool ServerConnection::streaming(std::uint64_t request_id) const noexcept {
  return stream_ && streaming_ && request_id == awaiting_id_;
}

std::size_t ServerConnection::queuedBytes() const noexcept {
  return stream_ ? stream_->writeQueueSize() : 0;
}

bool ServerConnection::startStream(std::uint64_t request_id, int status,
                                   std::vector<Header> headers) {
  if (!awaiting(request_id)) {
    return false;
  }
  streaming_ = true;
  if (!keep_alive_ || close_when_idle_) {
    headers.push_back({"Connection", "close"});
  }
  return streamWrite(request_id, responseHead(status, headers, 0, true));
}

bool ServerConnection::streamWrite(std::uint64_t request_id, std::string chunk) {
  return streamSend(request_id, std::move(chunk), nullptr);
}

bool ServerConnection::streamWrite(std::uint64_t request_id,
                                   std::shared_ptr<const std::string> bytes) {
  return streamSend(request_id, {}, std::move(bytes));
}

bool ServerConnection::streamSend(std::uint64_t request_id, std::string head,
                                  std::shared_ptr<const std::string> body) {
  if (!streaming(request_id)) {
    return false;
  }
  auto written = stream_->write(std::move(head), std::move(body), [this](Status ok) {
    if (!ok) {
      const auto self = shared_from_this();
      closeNow();
    }
  });
  if (!written) {
    closeNow();
  }
  return true;
}

bool ServerConnection::streamEnd(std::uint64_t request_id) {
  if (!streaming(request_id)) {
    return false;
  }
  streaming_ = false;
  awaiting_id_ = 0;
  const bool closing = !keep_alive_ || close_when_idle_;
  const auto after = closing ? Responder::After::kClose : Responder::After::kKeepOpen;
  writePieces(std::make_shared<std::vector<std::string>>(1, "0\r\n\r\n"), 0, after);
  return true;
}

bool ServerConnection::respond(std::uint64_t request_id, Answer answer) {
  if (!awaiting(request_id)) {
    return false;
  }
  awaiting_id_ = 0;
  const bool closing = !keep_alive_ || close_when_idle_;
  if (closing) {
    answer.headers.push_back({"Connection", "close"});
  }
  std::string head =
      responseHead(answer.status, answer.headers, answer.body.size(), answer.chunked);
  auto body = std::make_shared<const std::string>(std::move(answer.body));
  const auto after = closing ? Responder::After::kClose : Responder::After::kKeepOpen;
  auto written = stream_->write(std::move(head), std::move(body), [this, after](Status ok) {
    const auto self = shared_from_this();
    if (!ok) {
      closeNow();
      return;
    }
    if (after == Responder::After::kClose) {
      closeNow();  // only now: closing earlier would cancel the write
    }
  });
  if (!written) {
    closeNow();
    return true;
  }
  if (!closing) {
    drainPending();
  }
  return true;
}

bool ServerConnection::respondRaw(std::uint64_t request_id, std::vector<std::string> pieces,
                                  Responder::After after) {
  if (!awaiting(request_id)) {
    return false;
  }
  awaiting_id_ = 0;
  if (!keep_alive_ || close_when_idle_) {
    after = after == Responder::After::kKeepOpen ? Responder::After::kClose : after;
  }
  if (pieces.empty()) {
    afterWrite(after);
    return true;
  }
  writePieces(std::make_shared<std::vector<std::string>>(std::move(pieces)), 0, after);
  return true;
}

void ServerConnection::writePieces(std::shared_ptr<std::vector<std::string>> pieces,
                                   std::size_t index, Responder::After after) {
  std::string piece = std::move((*pieces)[index]);
  auto written = stream_->write(std::move(piece), nullptr, [this, pieces, index, after](Status ok) {
    const auto self = shared_from_this();
    if (!ok) {
      closeNow();
    } else if (index + 1 < pieces->size()) {
      writePieces(pieces, index + 1, after);
    } else {
      afterWrite(after);
    }
  });
  if (!written) {
    closeNow();
  }
}

void ServerConnection::afterWrite(Responder::After after) {
  switch (after) {
    case Responder::After::kReset:
      resetNow();
      return;
    case Responder::After::kClose:
      closeNow();
      return;
    case Responder::After::kKeepOpen:
      drainPending();
      return;
  }
}

void ServerConnection::drainPending() {
  if (in_consume_ || pending_.empty() || !stream_) {
    return;  // consume() is on the stack and will carry on by itself
  }
  const std::string buffered = std::move(pending_);
  pending_.clear();
  consume(buffered);
}

void ServerConnection::closeWhenIdle() {
  close_when_idle_ = true;
  if (awaiting_id_ == 0) {
    closeNow();
  }
}

void ServerConnection::closeNow() noexcept {
  if (!stream_) {
    return;
  }
  stream_.reset();
  awaiting_id_ = 0;
  streaming_ = false;
  const ClosedFn on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  if (on_closed) {
    on_closed(id_);  // the server lets go of us; a caller holds `self`
  }
}

void ServerConnection::resetNow() noexcept {
  if (stream_) {
    stream_->closeReset();
  }
  closeNow();
}

}  // namespace dropd::net::detail
