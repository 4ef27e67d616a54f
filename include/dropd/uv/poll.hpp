#pragma once

// Owns one uv_poll_t watching a file descriptor the caller owns (inotify).
// Loop thread only. Destroying the Poll starts uv_close(); the fd stays open
// and must outlive the Poll. The callback may destroy its own Poll.

#include <functional>
#include <memory>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct PollState;
}

class Poll {
 public:
  // Called with the ready events (UV_READABLE | UV_WRITABLE ...) or an error.
  using EventFn = std::function<void(Result<int> events)>;

  [[nodiscard]] static Result<Poll> create(uv_loop_t& loop, int fd);

  Poll(Poll&& other) noexcept;
  Poll& operator=(Poll&& other) noexcept;
  Poll(const Poll&) = delete;
  Poll& operator=(const Poll&) = delete;
  ~Poll();

  [[nodiscard]] Status start(int events, EventFn cb);
  void stop() noexcept;
  void close() noexcept;

 private:
  explicit Poll(std::unique_ptr<detail::PollState> state) noexcept;
  std::unique_ptr<detail::PollState> state_;
};

}  // namespace dropd::uv
