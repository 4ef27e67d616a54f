#pragma once

// Owns the process's one uv_loop_t. Loop thread only. The loop has a fixed
// address for its whole life (it sits on the heap), so the Loop may move.
//
// Shutdown: owners close their handles first (destroying their wrappers), then
// the Loop goes. Its destructor runs the loop until every close callback and
// pending request has finished and requires uv_loop_close() == 0. A handle
// still open then is an ownership bug: it is reported on stderr and closed
// without freeing its State (its owner may still point at it), so the loop
// can close anyway.

#include <memory>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

class Loop {
 public:
  [[nodiscard]] static Result<Loop> create();

  Loop(Loop&& other) noexcept = default;
  Loop& operator=(Loop&& other) noexcept = delete;
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop();

  [[nodiscard]] uv_loop_t& get() noexcept { return *raw_; }
  // uv_run(); returns true if handles or requests are still alive (see libuv).
  bool run(uv_run_mode mode = UV_RUN_DEFAULT) noexcept;
  void stop() noexcept;
  // How many handles are open and not closing (for tests and shutdown logs).
  [[nodiscard]] std::size_t openHandles() const noexcept;

 private:
  struct Deleter {
    void operator()(uv_loop_t* loop) const noexcept;
  };
  explicit Loop(std::unique_ptr<uv_loop_t, Deleter> raw) noexcept;
  std::unique_ptr<uv_loop_t, Deleter> raw_;  // null once moved from
};

// Number of handles on `loop` that are open and not closing.
[[nodiscard]] std::size_t countOpenHandles(uv_loop_t& loop) noexcept;

}  // namespace dropd::uv
