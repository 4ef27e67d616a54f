#pragma once

// One libuv loop per test. runUntil() drives the loop until a condition holds
// (no sleeps: the deadline only turns a hang into a failure). Destroying the
// fixture fails the test if a handle other than its own is still open, then
// drains the loop and requires uv_loop_close() == 0.
//
// Declare the fixture before the objects that use its loop, so they are
// destroyed (and their handles closed) first.

#include <chrono>
#include <functional>

#include <uv.h>

namespace dropd::test {

class LoopFixture {
 public:
  LoopFixture();
  LoopFixture(const LoopFixture&) = delete;
  LoopFixture& operator=(const LoopFixture&) = delete;
  ~LoopFixture();

  [[nodiscard]] uv_loop_t& get() noexcept { return loop_; }
  // Runs the loop until `pred` is true; FAILs the test at the deadline.
  void runUntil(const std::function<bool()>& pred,
                std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Runs the loop until nothing but the fixture's own handle is left.
  void drain();

 private:
  uv_loop_t loop_{};
  uv_timer_t guard_{};  // wakes uv_run() at the deadline
};

}  // namespace dropd::test
