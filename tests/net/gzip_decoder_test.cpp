#include "dropd/net/gzip_decoder.hpp"

#include <zlib.h>

#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "dropd/net/http_client.hpp"

#include "support/loop_fixture.hpp"
#include "test_server.hpp"

using namespace dropd;
using dropd::test::post;
using net::GzipDecoder;
using net::Responder;

namespace {

std::string gzip(const std::string& bytes) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("GzipDecoder inflates in pieces of any size, within its cap", "[net]") {
  const std::string text = "data: {\"choices\":[]}\n\n" + std::string(5000, 'x');
  const std::string packed = gzip(text);
  SECTION("every split gives the same bytes") {
    for (std::size_t split = 0; split <= packed.size(); split += 7) {
      GzipDecoder d(1 << 20, "max_response_bytes");
      auto a = d.feed(std::string_view(packed).substr(0, split));
      auto b = d.feed(std::string_view(packed).substr(split));
      REQUIRE(a);
      REQUIRE(b);
      CHECK(*a + *b == text);
      CHECK(d.finish());
    }
  }
  SECTION("a gzip bomb stops at the cap") {
    const std::string bomb = gzip(std::string(8 << 20, '\0'));  // 8 MiB of zeros, ~8 KiB packed
    GzipDecoder d(1 << 20, "max_response_bytes");
    auto out = d.feed(bomb);
    REQUIRE_FALSE(out);
    CHECK(out.error().code == ErrorCode::kTooLarge);
    CHECK(out.error().context ==
          "response body over max_response_bytes (1048576): gzip output passed 1048576 bytes");
  }
  SECTION("not gzip, or cut short") {
    GzipDecoder junk(1 << 20, "max_response_bytes");
    CHECK_FALSE(junk.feed("not gzip at all"));
    GzipDecoder cut(1 << 20, "max_response_bytes");
    REQUIRE(cut.feed(packed.substr(0, packed.size() / 2)));
    CHECK_FALSE(cut.finish());
  }
}

TEST_CASE("HttpClient inflates a gzip answer, whole or through on_body", "[net]") {
  test::LoopFixture loop;
  test::TestServer server{loop.get()};
  const std::string text = "hello, compressed world";
  std::string packed = gzip(text);
  server.answer = [&](const net::ServerRequest& request, Responder& r) {
    const bool bomb = request.body == "bomb";
    r.send(200, {{"Content-Encoding", "gzip"}}, bomb ? gzip(std::string(4 << 20, 'a')) : packed);
  };
  auto created = net::HttpClient::create(loop.get(), server.url(), {.max_response_bytes = 1 << 20});
  REQUIRE(created);
  auto client = std::move(*created);
  const auto call = [&](std::string body, std::string* pieces) {
    net::HttpRequest request = post(std::move(body));
    if (pieces != nullptr) {
      request.on_body = [pieces](std::string_view bytes) { pieces->append(bytes); };
    }
    std::optional<Result<net::HttpResponse>> outcome;
    client->send(std::move(request), [&](Result<net::HttpResponse> r) { outcome = std::move(r); });
    loop.runUntil([&] { return outcome.has_value(); });
    return std::move(*outcome);
  };
  SECTION("a whole body") {
    const auto r = call("x", nullptr);
    REQUIRE(r);
    CHECK(r->body == text);
  }
  SECTION("through on_body") {
    std::string pieces;
    const auto r = call("x", &pieces);
    REQUIRE(r);
    CHECK(pieces == text);
  }
  SECTION("a bomb fails the request with kTooLarge, whole or streamed") {
    const auto whole = call("bomb", nullptr);
    REQUIRE_FALSE(whole);
    CHECK(whole.error().code == ErrorCode::kTooLarge);
    std::string pieces;
    const auto streamed = call("bomb", &pieces);
    REQUIRE_FALSE(streamed);
    CHECK(streamed.error().code == ErrorCode::kTooLarge);
  }
}
