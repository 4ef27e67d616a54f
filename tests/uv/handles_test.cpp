#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "dropd/uv/async.hpp"
#include "dropd/uv/loop.hpp"
#include "dropd/uv/poll.hpp"
#include "dropd/uv/resolver.hpp"
#include "dropd/uv/signal.hpp"
#include "dropd/uv/timer.hpp"
#include "dropd/uv/work.hpp"

#include "support/loop_fixture.hpp"

using namespace dropd;
using namespace std::chrono_literals;

TEST_CASE("Poll reports a readable pipe and may destroy itself", "[uv]") {
  dropd::test::LoopFixture loop;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::optional<uv::Poll> poll{*uv::Poll::create(loop.get(), fds[0])};
  int events = 0;
  REQUIRE(poll->start(UV_READABLE, [&](Result<int> ready) {
    REQUIRE(ready);
    events = *ready;
    poll.reset();
  }));
  REQUIRE(::write(fds[1], "x", 1) == 1);
  loop.runUntil([&] { return events != 0; });
  CHECK((events & UV_READABLE) != 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("Signal delivers a raised signal on the loop thread", "[uv]") {
  dropd::test::LoopFixture loop;
  std::optional<uv::Signal> signal{*uv::Signal::create(loop.get())};
  int got = 0;
  REQUIRE(signal->start(SIGUSR1, [&](int signum) {
    got = signum;
    signal.reset();
  }));
  REQUIRE(::raise(SIGUSR1) == 0);
  loop.runUntil([&] { return got != 0; });
  CHECK(got == SIGUSR1);
}

TEST_CASE("Async wakes the loop from another thread", "[uv]") {
  dropd::test::LoopFixture loop;
  bool woken = false;
  std::optional<uv::Async> async;
  async.emplace(*uv::Async::create(loop.get(), [&] {
    woken = true;
    async.reset();
  }));
  bool sent = false;  // Catch2 assertions are not thread-safe: check on this thread
  std::thread sender{[&] { sent = async->send().has_value(); }};
  sender.join();
  CHECK(sent);
  loop.runUntil([&] { return woken; });
}

TEST_CASE("queueWork runs on the pool and returns its result by value", "[uv]") {
  dropd::test::LoopFixture loop;
  std::optional<Result<std::size_t>> out;
  const auto loop_thread = std::this_thread::get_id();
  bool ran_elsewhere = false;
  REQUIRE(uv::queueWork<std::string, std::size_t>(
      loop.get(), std::string(1000, 'x'),
      [&](std::string in) -> Result<std::size_t> {
        ran_elsewhere = std::this_thread::get_id() != loop_thread;
        return in.size();
      },
      [&](Result<std::size_t> r) { out = std::move(r); }));
  loop.runUntil([&] { return out.has_value(); });
  REQUIRE(*out);
  CHECK(**out == 1000);
  CHECK(ran_elsewhere);
}

TEST_CASE("queueWork passes an error from the work function", "[uv]") {
  dropd::test::LoopFixture loop;
  std::optional<Result<int>> out;
  REQUIRE(uv::queueWork<int, int>(
      loop.get(), 1, [](int) -> Result<int> { return makeError(ErrorCode::kInvalid, "bad"); },
      [&](Result<int> r) { out = std::move(r); }));
  loop.runUntil([&] { return out.has_value(); });
  REQUIRE_FALSE(*out);
  CHECK(out->error().code == ErrorCode::kInvalid);
}

TEST_CASE("Resolver finds localhost and cancels quietly", "[uv]") {
  dropd::test::LoopFixture loop;
  SECTION("lookup completes") {
    std::optional<Result<std::vector<sockaddr_storage>>> out;
    std::optional<uv::Resolver> resolver;
    resolver.emplace(*uv::Resolver::start(loop.get(), "localhost", 80, [&](auto r) {
      out = std::move(r);
      resolver.reset();  // the callback may destroy its Resolver
    }));
    loop.runUntil([&] { return out.has_value(); });
    REQUIRE(*out);
    CHECK_FALSE((*out)->empty());
  }
  SECTION("destroyed before completion: no callback") {
    bool called = false;
    {
      auto resolver =
          uv::Resolver::start(loop.get(), "localhost", 80, [&](auto) { called = true; });
      REQUIRE(resolver);
    }
    loop.drain();
    CHECK_FALSE(called);
  }
}

TEST_CASE("Loop closes after its owners closed their handles", "[uv]") {
  auto loop = uv::Loop::create();
  REQUIRE(loop);
  bool fired = false;
  {
    uv::Timer timer = *uv::Timer::create(loop->get());
    REQUIRE(timer.start(1ms, [&] { fired = true; }));
    CHECK(loop->openHandles() == 1);
    loop->run();
  }
  CHECK(fired);
  CHECK(loop->openHandles() == 0);
  // ~Loop drains the pending close and checks uv_loop_close() == 0.
}
