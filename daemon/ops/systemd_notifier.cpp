#include "dropd/ops/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdint>

#include "dropd/uv/check.hpp"

namespace dropd::ops {
namespace {

using std::chrono::milliseconds;

std::uint64_t monotonicMicros() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
         static_cast<std::uint64_t>(now.tv_nsec) / 1'000;
}

uv::Timer makeTimer(uv_loop_t& loop) {
  auto timer = uv::Timer::create(loop);
  DROPD_CHECK(timer.has_value(), "notifier timer");
  return std::move(*timer);
}

}  // namespace

SystemdNotifier::SystemdNotifier(uv_loop_t& loop, spdlog::logger& log, StatusFn status)
    : log_(log), status_(std::move(status)), status_timer_(makeTimer(loop)) {
  DROPD_CHECK(status_timer_.startRepeat(kStatusInterval, kStatusInterval, [this] { sendStatus(); })
                  .has_value(),
              "status timer");
  // Neither timer may keep a loop alive that has nothing else to do.
  status_timer_.unref();
  startWatchdog(loop);
}

void SystemdNotifier::startWatchdog(uv_loop_t& loop) {
  std::uint64_t usec = 0;
  // 0 unset or meant for another pid (WATCHDOG_PID), < 0 unparsable: no pings.
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return;
  }
  // Half the timeout, as sd_watchdog_enabled(3) advises, and at least 1 ms
  // so that a tiny WATCHDOG_USEC does not make a busy loop.
  const milliseconds every = std::max(milliseconds(1), milliseconds(usec / 2000));
  watchdog_timer_.emplace(makeTimer(loop));
  DROPD_CHECK(watchdog_timer_
                  ->startRepeat(milliseconds(0), every, [] { (void)::sd_notify(0, "WATCHDOG=1"); })
                  .has_value(),
              "watchdog timer");
  watchdog_timer_->unref();
  log_.info("systemd.watchdog timeout_ms={} ping_every_ms={}", usec / 1000, every.count());
}

void SystemdNotifier::ready() {
  (void)::sd_notify(0, "READY=1");
  sendStatus();
}

void SystemdNotifier::reloading() {
  (void)::sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     static_cast<unsigned long long>(monotonicMicros()));
}

void SystemdNotifier::stopping() { (void)::sd_notify(0, "STOPPING=1"); }

void SystemdNotifier::sendStatus() {
  std::string text = status_();
  if (text == last_status_) {
    return;
  }
  last_status_ = std::move(text);
  (void)::sd_notifyf(0, "STATUS=%s", last_status_.c_str());
}

}  // namespace dropd::ops
