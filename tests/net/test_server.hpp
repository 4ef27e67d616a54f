#pragma once

// An HttpServer on 127.0.0.1:0 that records what it got and lets each test
// decide how to answer; https when `options` has a certificate. Loop thread
// only.

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/net/http_client.hpp"
#include "dropd/net/http_server.hpp"

namespace dropd::test {

struct Received {
  net::ServerRequest request;
  net::Responder responder;
};

class TestServer {
 public:
  using Answer = std::function<void(const net::ServerRequest&, net::Responder&)>;

  explicit TestServer(uv_loop_t& loop, net::ServerOptions options = {})
      : scheme_(options.tls_cert_file.empty() ? "http" : "https") {
    auto server = net::HttpServer::listen(
        loop, "127.0.0.1", 0,
        [this](net::ServerRequest&& request, net::Responder responder) {
          ++requests;
          if (answer) {
            answer(request, responder);
          }
          received.push_back({std::move(request), std::move(responder)});
        },
        options);
    REQUIRE(server);
    server_ = std::move(*server);
  }

  [[nodiscard]] net::Url url(const std::string& target = "/",
                             const std::string& host = "127.0.0.1") const {
    return *net::Url::parse(scheme_ + "://" + host + ":" + std::to_string(server_->port()) +
                            target);
  }
  [[nodiscard]] net::HttpServer& server() { return *server_; }

  Answer answer;  // empty: hang (the test answers through `received`)
  std::deque<Received> received;
  int requests = 0;

 private:
  std::string scheme_;
  std::unique_ptr<net::HttpServer> server_;
};

// Answers 200 with the request body echoed back.
inline void echo(const net::ServerRequest& request, net::Responder& responder) {
  responder.send(200, {{"Content-Type", "text/plain"}}, request.body);
}

inline net::HttpRequest post(std::string body) {
  net::HttpRequest request;
  request.target = "/echo";
  request.body = std::move(body);
  return request;
}

}  // namespace dropd::test
