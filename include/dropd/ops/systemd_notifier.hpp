#pragma once

// dropd's side of the systemd notification protocol (sd_notify(3)), the one
// place that talks to systemd: READY=1, RELOADING=1 with MONOTONIC_USEC,
// STOPPING=1, a STATUS= line every 2 s when its text changed, and WATCHDOG=1
// at half of WATCHDOG_USEC when systemd asks for keep-alives
// (sd_watchdog_enabled). The keep-alives come from a loop timer, so a loop
// that stops turning stops them and systemd restarts the service.
// Without NOTIFY_SOCKET (not under systemd, or Type= is not notify) every
// message is dropped by sd_notify itself. Loop thread only.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/uv/timer.hpp"

namespace dropd::ops {

class SystemdNotifier {
 public:
  // The text after STATUS=, e.g. "12 queued, 3 in flight, 140 done, 2 failed".
  using StatusFn = std::function<std::string()>;
  static constexpr std::chrono::seconds kStatusInterval{2};

  // Starts the status timer, and the watchdog timer if systemd asks for it
  // (logged at info). `status` and `log` must outlive the notifier.
  SystemdNotifier(uv_loop_t& loop, spdlog::logger& log, StatusFn status);
  // Its timers' callbacks hold `this`: it never moves.
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  void ready();
  // RELOADING=1 with the CLOCK_MONOTONIC time, as systemd 253+ wants it
  // (Type=notify-reload); older ones read only RELOADING=1.
  void reloading();
  void stopping();
  // Sends STATUS= now if its text changed since the last one.
  void sendStatus();

 private:
  void startWatchdog(uv_loop_t& loop);

  spdlog::logger& log_;
  const StatusFn status_;
  uv::Timer status_timer_;
  std::optional<uv::Timer> watchdog_timer_;  // only when systemd wants keep-alives
  std::string last_status_;
};

}  // namespace dropd::ops
