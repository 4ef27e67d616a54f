#pragma once

#include "dropd/base/clock.hpp"

namespace dropd::test {

// A Clock that only moves when the test says so.
class ManualClock final : public Clock {
 public:
  [[nodiscard]] MonoTime now() const override { return mono_; }
  [[nodiscard]] WallTime wallNow() const override { return wall_; }
  void advance(std::chrono::nanoseconds by) {
    mono_ += by;
    wall_ += std::chrono::duration_cast<WallTime::duration>(by);
  }

 private:
  MonoTime mono_{std::chrono::hours(1)};
  WallTime wall_{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}};
};

}  // namespace dropd::test
