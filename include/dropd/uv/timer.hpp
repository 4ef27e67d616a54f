#pragma once

// Owns one uv_timer_t. Loop thread only. Destroying the Timer (or close())
// starts uv_close(); the handle and its callback are freed in the close
// callback, never earlier, so a callback may destroy its own Timer.

#include <chrono>
#include <functional>
#include <memory>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct TimerState;
}

class Timer {
 public:
  [[nodiscard]] static Result<Timer> create(uv_loop_t& loop);

  Timer(Timer&& other) noexcept;
  Timer& operator=(Timer&& other) noexcept;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  // One-shot: `cb` runs once after `timeout`. Starting again replaces the
  // previous deadline and callback. The callback may destroy this Timer.
  [[nodiscard]] Status start(std::chrono::milliseconds timeout, std::function<void()> cb);
  // Runs `cb` after `first`, then every `repeat`. A repeating callback may
  // stop or destroy the Timer but must not restart it with a new callback.
  [[nodiscard]] Status startRepeat(std::chrono::milliseconds first,
                                   std::chrono::milliseconds repeat, std::function<void()> cb);
  void stop() noexcept;
  [[nodiscard]] bool active() const noexcept;
  // Lets the loop exit while this timer is the only thing pending.
  void unref() noexcept;
  void close() noexcept;

 private:
  explicit Timer(std::unique_ptr<detail::TimerState> state) noexcept;
  std::unique_ptr<detail::TimerState> state_;  // null once moved from or closed
};

}  // namespace dropd::uv
