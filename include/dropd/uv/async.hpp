#pragma once

// Owns one uv_async_t: the only way another thread may wake the loop.
// create(), close() and destruction are loop-thread only; send() may be
// called from any thread while the Async exists (not while it is moved).
// Several sends before the loop wakes run the callback once (libuv's rule).

#include <functional>
#include <memory>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct AsyncState;
}

class Async {
 public:
  [[nodiscard]] static Result<Async> create(uv_loop_t& loop, std::function<void()> cb);

  Async(Async&& other) noexcept;
  Async& operator=(Async&& other) noexcept;
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  ~Async();

  [[nodiscard]] Status send() const;
  void close() noexcept;

 private:
  explicit Async(std::unique_ptr<detail::AsyncState> state) noexcept;
  std::unique_ptr<detail::AsyncState> state_;
};

}  // namespace dropd::uv
