#pragma once

// A small HTTP proxy on 127.0.0.1:0 for the client's proxy tests, built on
// uv::TcpListener/TcpStream. Loop thread only. Each accepted connection's
// first head is recorded; then:
//   - with `required_auth` set and no "Proxy-Authorization: <it>" line, it
//     answers 407 (and nothing more);
//   - with `connect_status` other than 200 it answers that to CONNECT;
//   - CONNECT host:port: connects there, answers 200 and pipes bytes both
//     ways (the tunnel);
//   - anything else (an absolute-form request): connects to the URL's
//     host:port, forwards the head as it came and pipes both ways.
// One upstream per client connection, so a kept-alive client connection
// stays one tunnel.

#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dropd/uv/tcp_listener.hpp"
#include "dropd/uv/tcp_stream.hpp"

namespace dropd::test {

class TestProxy {
 public:
  explicit TestProxy(uv_loop_t& loop) : loop_(loop) {
    auto listener = uv::TcpListener::listen(loop, "127.0.0.1", 0, [this](auto stream) {
      REQUIRE(stream);
      accept(std::move(*stream));
    });
    REQUIRE(listener);
    listener_.emplace(std::move(*listener));
  }

  [[nodiscard]] int port() const { return listener_->port(); }

  std::string required_auth;  // e.g. "Basic dXNlcjpwdw=="; empty: none needed
  int connect_status = 200;
  std::vector<std::string> heads;  // the first head of each connection
  int accepted = 0;

 private:
  struct Session {
    std::optional<uv::TcpStream> client;
    std::optional<uv::TcpStream> upstream;
    std::string head;
    bool piping = false;
  };

  void accept(uv::TcpStream stream) {
    ++accepted;
    sessions_.push_back(std::make_unique<Session>());
    Session* s = sessions_.back().get();
    s->client.emplace(std::move(stream));
    REQUIRE(s->client->startRead([this, s](Result<std::string_view> data) { onClient(s, data); }));
  }

  static void closeBoth(Session* s) {
    s->client.reset();
    s->upstream.reset();
  }

  void onClient(Session* s, Result<std::string_view> data) {
    if (!data) {
      closeBoth(s);
      return;
    }
    if (s->piping) {
      if (s->upstream) {
        (void)s->upstream->write(std::string(*data), nullptr, nullptr);
      }
      return;
    }
    s->head.append(*data);
    const auto end = s->head.find("\r\n\r\n");
    if (end == std::string::npos) {
      return;
    }
    heads.push_back(s->head.substr(0, end + 4));
    route(s, end + 4);
  }

  void answer(Session* s, std::string text) {
    (void)s->client->write(std::move(text), nullptr, [s](Status) { closeBoth(s); });
  }

  void route(Session* s, std::size_t head_end) {
    const std::string head = s->head.substr(0, head_end);
    if (!required_auth.empty() &&
        head.find("\r\nProxy-Authorization: " + required_auth + "\r\n") == std::string::npos) {
      answer(s,
             "HTTP/1.1 407 Proxy Authentication Required\r\n"
             "Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const bool is_connect = head.starts_with("CONNECT ");
    if (is_connect && connect_status != 200) {
      answer(s, "HTTP/1.1 " + std::to_string(connect_status) + " No\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    // "CONNECT HOST:PORT " or "POST http://HOST:PORT/...": every HOST is this machine.
    const auto host_at = is_connect ? std::string("CONNECT ").size() : head.find("://") + 3;
    const auto colon = head.find(':', host_at);
    int port = 0;
    (void)std::from_chars(head.data() + colon + 1, head.data() + head.size(), port);
    const std::string forward = is_connect ? std::string() : s->head;
    s->piping = true;
    connectUpstream(s, port, is_connect, forward);
  }

  void connectUpstream(Session* s, int port, bool is_connect, std::string forward) {
    auto up = uv::TcpStream::create(loop_);
    REQUIRE(up);
    s->upstream.emplace(std::move(*up));
    sockaddr_storage addr{};
    REQUIRE(uv::parseIpAddress("127.0.0.1", port, addr));
    REQUIRE(s->upstream->connect(
        reinterpret_cast<const sockaddr&>(addr), [s, is_connect, forward](Status ok) {
          if (!ok) {
            closeBoth(s);
            return;
          }
          REQUIRE(s->upstream->startRead([s](Result<std::string_view> data) {
            if (!data) {
              closeBoth(s);
            } else if (s->client) {
              (void)s->client->write(std::string(*data), nullptr, nullptr);
            }
          }));
          if (is_connect) {
            (void)s->client->write("HTTP/1.1 200 Connection established\r\n\r\n", nullptr, nullptr);
          } else {
            (void)s->upstream->write(forward, nullptr, nullptr);
          }
        }));
  }

  uv_loop_t& loop_;
  std::optional<uv::TcpListener> listener_;
  std::vector<std::unique_ptr<Session>> sessions_;
};

}  // namespace dropd::test
