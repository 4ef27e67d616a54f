#include "dropd/ops/systemd_notifier.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>

#include "support/loop_fixture.hpp"
#include "support/temp_dir.hpp"

namespace {

// systemd's end: a datagram socket named by NOTIFY_SOCKET (and
// WATCHDOG_USEC when given) for as long as it lives.
class FakeSystemd {
 public:
  FakeSystemd(const dropd::test::TempDir& dir, const char* watchdog_usec) {
    const std::string path = (dir.path() / "notify.sock").string();
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    path.copy(addr.sun_path, path.size());
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    ::unsetenv("WATCHDOG_PID");
    if (watchdog_usec != nullptr) {
      ::setenv("WATCHDOG_USEC", watchdog_usec, 1);
    } else {
      ::unsetenv("WATCHDOG_USEC");
    }
  }
  ~FakeSystemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::close(fd_);
  }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  // Every message that has arrived since the last call.
  std::vector<std::string>& received() {
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::recv(fd_, buf, sizeof buf, 0)) > 0) {
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }
  [[nodiscard]] std::size_t count(const std::string& message) {
    std::size_t n = 0;
    for (const std::string& m : received()) {
      n += m == message ? 1 : 0;
    }
    return n;
  }

 private:
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("SystemdNotifier sends each state, and STATUS only when it changed", "[ops]") {
  dropd::test::LoopFixture loop;
  dropd::test::TempDir dir;
  spdlog::logger log{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::string status = "1 queued, 0 in flight, 0 done, 0 failed";

  SECTION("without WATCHDOG_USEC no keep-alive is sent") {
    FakeSystemd systemd(dir, nullptr);
    std::optional<dropd::ops::SystemdNotifier> notifier;
    notifier.emplace(loop.get(), log, [&status] { return status; });
    notifier->ready();
    notifier->sendStatus();  // the same text: not sent again
    status = "0 queued, 0 in flight, 1 done, 0 failed";
    notifier->sendStatus();
    notifier->reloading();
    notifier->stopping();
    loop.runUntil([&] { return systemd.received().size() >= 5; });
    const std::vector<std::string>& got = systemd.received();
    REQUIRE(got.size() == 5);
    CHECK(got[0] == "READY=1");
    CHECK(got[1] == "STATUS=1 queued, 0 in flight, 0 done, 0 failed");
    CHECK(got[2] == "STATUS=0 queued, 0 in flight, 1 done, 0 failed");
    CHECK(got[3].rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
    CHECK(got[4] == "STOPPING=1");
    notifier.reset();
  }
  SECTION("with WATCHDOG_USEC it keeps sending WATCHDOG=1 while the loop turns") {
    FakeSystemd systemd(dir, "20000");  // a ping every 10 ms
    std::optional<dropd::ops::SystemdNotifier> notifier;
    notifier.emplace(loop.get(), log, [&status] { return status; });
    loop.runUntil([&] { return systemd.count("WATCHDOG=1") >= 3; });
    notifier.reset();
  }
  loop.drain();
}
