#pragma once

// Owns one uv_signal_t (SIGINT, SIGTERM, SIGHUP). Loop thread only. The
// callback may destroy its own Signal; destroying it restores the default
// disposition once no other watcher remains (libuv's rule).

#include <functional>
#include <memory>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct SignalState;
}

class Signal {
 public:
  [[nodiscard]] static Result<Signal> create(uv_loop_t& loop);

  Signal(Signal&& other) noexcept;
  Signal& operator=(Signal&& other) noexcept;
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  ~Signal();

  // `cb` gets the signal number each time it arrives.
  [[nodiscard]] Status start(int signum, std::function<void(int)> cb);
  void stop() noexcept;
  // Lets the loop exit while only signal watchers remain.
  void unref() noexcept;
  void close() noexcept;

 private:
  explicit Signal(std::unique_ptr<detail::SignalState> state) noexcept;
  std::unique_ptr<detail::SignalState> state_;
};

}  // namespace dropd::uv
