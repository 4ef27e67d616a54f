#pragma once

// The time source every module takes as a constructor parameter, so tests can
// drive time with ManualClock instead of sleeping. Loop thread only.

#include <chrono>

namespace dropd {

using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual MonoTime now() const = 0;      // for intervals and deadlines
  [[nodiscard]] virtual WallTime wallNow() const = 0;  // for timestamps people read
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] MonoTime now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace dropd
