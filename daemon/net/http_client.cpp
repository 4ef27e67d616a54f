#include "dropd/net/http_client.hpp"

#include <algorithm>
#include <cassert>

#include "net/client_connection.hpp"
#include "net/proxy_tunnel.hpp"
#include "net/tls_context.hpp"

namespace dropd::net {

namespace detail {

// Forwards connection reports to the client (Owner lives in a private
// header, so HttpClient cannot implement it itself).
class ClientEvents final : public ClientConnection::Owner {
 public:
  explicit ClientEvents(HttpClient& client) : client_(client) {}
  void onExchangeDone(ClientConnection& conn, Exchange exchange,
                      Result<HttpResponse> result) override {
    client_.exchangeDone(conn, std::move(exchange), std::move(result));
  }
  void onIdleClosed(ClientConnection& conn) override { client_.idleClosed(conn); }

 private:
  HttpClient& client_;
};

}  // namespace detail

namespace {

using detail::ClientConnection;
using detail::Exchange;

bool isFramingHeader(std::string_view name) noexcept {
  return equalsIgnoreCase(name, "host") || equalsIgnoreCase(name, "content-length") ||
         equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "transfer-encoding");
}

tl::unexpected<Error> cancelled() { return makeError(ErrorCode::kCancelled, "HTTP client closed"); }

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::create(uv_loop_t& loop, const Url& url,
                                                       ClientOptions options) {
  if (options.max_connections == 0) {
    return makeError(ErrorCode::kInvalid, "max_connections must be at least 1");
  }
  std::unique_ptr<detail::TlsContext> tls;
  if (url.tls()) {
    auto ctx = detail::TlsContext::forClient(options.tls);
    if (!ctx) {
      return tl::unexpected{ctx.error()};
    }
    tls = std::make_unique<detail::TlsContext>(std::move(*ctx));
  }
  auto client = std::make_unique<HttpClient>(Key{}, loop, url, std::move(options));
  client->tls_ = std::move(tls);
  return client;
}

HttpClient::HttpClient(Key /*key*/, uv_loop_t& loop, Url url, ClientOptions options)
    : loop_(loop),
      url_(std::move(url)),
      options_(std::move(options)),
      events_(std::make_unique<detail::ClientEvents>(*this)) {}

HttpClient::~HttpClient() = default;  // connections close their sockets

std::string HttpClient::serialiseHead(const HttpRequest& request) const {
  std::string head;
  head.reserve(256);
  // Plain http through a proxy: the absolute form, and the proxy's
  // credentials on every request (RFC 9112 §3.2.2). https goes through a
  // tunnel, where the request is the endpoint's alone.
  const bool via_proxy = options_.proxy.enabled() && !url_.tls();
  head += request.method;
  head += ' ';
  if (via_proxy) {
    head += url_.scheme + "://" + url_.hostHeader();
  }
  head += request.target.empty() ? url_.target : request.target;
  head += " HTTP/1.1\r\nHost: ";
  head += url_.hostHeader();
  head += "\r\nConnection: keep-alive\r\n";
  if (via_proxy && !options_.proxy.authorization.empty()) {
    head += "Proxy-Authorization: " + options_.proxy.authorization + "\r\n";
  }
  if (request.bodySize() != 0 || request.method != "GET") {
    head += "Content-Length: " + std::to_string(request.bodySize()) + "\r\n";
  }
  for (const Header& h : request.headers) {
    if (!isFramingHeader(h.name)) {
      head += h.name + ": " + h.value + "\r\n";
    }
  }
  head += "\r\n";
  return head;
}

void HttpClient::send(HttpRequest request, ResponseFn cb) {
  if (closed_) {
    cb(cancelled());
    return;
  }
  auto exchange = std::make_unique<Exchange>();
  exchange->head = serialiseHead(request);
  exchange->body = request.shared_body
                       ? std::move(request.shared_body)
                       : std::make_shared<const std::string>(std::move(request.body));
  exchange->cb = std::move(cb);
  exchange->on_body = std::move(request.on_body);
  waiting_.push_back(std::move(exchange));
  Completions done;
  pump(done);
  runCompletions(std::move(done));
}

void HttpClient::pump(Completions& done) {
  while (!waiting_.empty()) {
    ClientConnection* conn = waiting_.front()->retried ? nullptr : pickIdle();
    if (conn == nullptr) {
      conn = openConnection(waiting_.front()->retried);
    }
    if (conn == nullptr) {
      return;  // every connection is busy: the request waits its turn
    }
    startOn(*conn, done);
  }
}

void HttpClient::startOn(ClientConnection& conn, Completions& done) {
  Exchange& exchange = *waiting_.front();
  if (auto started = conn.send(exchange); !started) {
    // The exchange stayed with us; the connection is dead.
    done.emplace_back(std::move(exchange.cb), tl::unexpected{started.error()});
    removeConnection(conn);
  }
  waiting_.pop_front();
}

ClientConnection* HttpClient::pickIdle() noexcept {
  // The most recently used idle connection: the others can then time out.
  for (auto it = connections_.rbegin(); it != connections_.rend(); ++it) {
    if ((*it)->idle()) {
      return it->get();
    }
  }
  return nullptr;
}

ClientConnection* HttpClient::openConnection(bool fresh_only) {
  if (connections_.size() >= options_.max_connections) {
    ClientConnection* idle = fresh_only ? pickIdle() : nullptr;
    if (idle == nullptr) {
      return nullptr;
    }
    removeConnection(*idle);  // a retry must not land on another stale socket
  }
  connections_.push_back(std::make_unique<ClientConnection>(
      loop_, *events_, detail::ClientShared{url_, options_, tls_.get()}));
  ++opened_;
  return connections_.back().get();
}

void HttpClient::removeConnection(ClientConnection& conn) noexcept {
  const auto it = std::find_if(connections_.begin(), connections_.end(),
                               [&](const auto& c) { return c.get() == &conn; });
  if (it != connections_.end()) {
    connections_.erase(it);  // closes the socket
  }
}

void HttpClient::exchangeDone(ClientConnection& conn, Exchange exchange,
                              Result<HttpResponse> result) {
  Completions done;
  if (result && result->status == 407 && options_.proxy.enabled()) {
    result = tl::unexpected(detail::proxyAuthRequired(options_.proxy, 407));  // as for CONNECT
  }
  const bool retry = !result && conn.staleFailure() && !exchange.retried;
  if (!conn.idle()) {
    removeConnection(conn);  // `conn` is gone from here on
  }
  if (retry) {
    exchange.retried = true;
    waiting_.push_front(std::make_unique<Exchange>(std::move(exchange)));
  } else {
    done.emplace_back(std::move(exchange.cb), std::move(result));
  }
  pump(done);
  runCompletions(std::move(done));  // last: a callback may destroy this client
}

void HttpClient::idleClosed(ClientConnection& conn) {
  removeConnection(conn);
  Completions done;
  pump(done);
  runCompletions(std::move(done));
}

void HttpClient::close() {
  closed_ = true;
  Completions done;
  for (auto& conn : connections_) {
    if (auto exchange = conn->takeExchange()) {
      done.emplace_back(std::move(exchange->cb), cancelled());
    }
  }
  for (auto& exchange : waiting_) {
    done.emplace_back(std::move(exchange->cb), cancelled());
  }
  waiting_.clear();
  connections_.clear();
  runCompletions(std::move(done));
}

void HttpClient::runCompletions(Completions done) noexcept {
  // Touches nothing of the client: any callback may destroy it.
  for (auto& [cb, result] : done) {
    cb(std::move(result));
  }
}

std::size_t HttpClient::inFlight() const noexcept {
  return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                [](const auto& c) { return !c->idle(); }));
}

std::size_t HttpClient::waiting() const noexcept { return waiting_.size(); }

std::size_t HttpClient::idleConnections() const noexcept {
  return connections_.size() - inFlight();
}

std::size_t HttpClient::connections() const noexcept { return connections_.size(); }

}  // namespace dropd::net
