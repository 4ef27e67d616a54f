#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/uv/tcp_listener.hpp"
#include "dropd/uv/tcp_stream.hpp"

#include "support/loop_fixture.hpp"

using namespace dropd;

TEST_CASE("TcpStream echoes through a TcpListener on loopback", "[uv]") {
  dropd::test::LoopFixture loop;
  std::optional<uv::TcpStream> server_side;
  std::string server_got;
  auto listener = uv::TcpListener::listen(loop.get(), "127.0.0.1", 0, [&](auto accepted) {
    REQUIRE(accepted);
    server_side.emplace(std::move(*accepted));
    REQUIRE(server_side->startRead([&](Result<std::string_view> data) {
      if (!data) {
        server_side.reset();  // EOF: the callback may destroy its stream
        return;
      }
      server_got += *data;
    }));
  });
  REQUIRE(listener);
  REQUIRE(listener->port() > 0);

  sockaddr_storage addr{};
  REQUIRE(uv::parseIpAddress("127.0.0.1", listener->port(), addr));
  std::optional<uv::TcpStream> client{*uv::TcpStream::create(loop.get())};
  bool written = false;
  const auto body = std::make_shared<const std::string>(100000, 'b');
  REQUIRE(client->connect(reinterpret_cast<const sockaddr&>(addr), [&](Status connected) {
    REQUIRE(connected);
    REQUIRE(client->write("head:", body, [&](Status done) {
      REQUIRE(done);
      written = true;
      client.reset();  // FIN to the server
    }));
  }));
  loop.runUntil([&] { return written && !server_side && server_got.size() == 100005; });
  CHECK(server_got.substr(0, 6) == "head:b");
  listener->close();
}

TEST_CASE("TcpStream connect to a closed port reports ECONNREFUSED", "[uv]") {
  dropd::test::LoopFixture loop;
  int port = 0;
  {
    auto listener = uv::TcpListener::listen(loop.get(), "127.0.0.1", 0, [](auto) {});
    REQUIRE(listener);
    port = listener->port();
  }
  sockaddr_storage addr{};
  REQUIRE(uv::parseIpAddress("127.0.0.1", port, addr));
  uv::TcpStream client = *uv::TcpStream::create(loop.get());
  std::optional<Status> result;
  REQUIRE(client.connect(reinterpret_cast<const sockaddr&>(addr), [&](Status s) { result = s; }));
  loop.runUntil([&] { return result.has_value(); });
  REQUIRE_FALSE(*result);
  CHECK(result->error().sys == UV_ECONNREFUSED);
}

TEST_CASE("TcpStream closed while connecting never calls back", "[uv]") {
  dropd::test::LoopFixture loop;
  auto listener = uv::TcpListener::listen(loop.get(), "127.0.0.1", 0, [](auto) {});
  REQUIRE(listener);
  sockaddr_storage addr{};
  REQUIRE(uv::parseIpAddress("127.0.0.1", listener->port(), addr));
  bool called = false;
  {
    uv::TcpStream client = *uv::TcpStream::create(loop.get());
    REQUIRE(
        client.connect(reinterpret_cast<const sockaddr&>(addr), [&](Status) { called = true; }));
  }
  listener->close();
  loop.drain();
  CHECK_FALSE(called);
}
