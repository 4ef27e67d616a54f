#pragma once

// A Prometheus histogram's state: cumulative-on-render bucket counts over
// fixed upper bounds, the sum and the count. Any thread that owns it; no
// I/O. Observing is O(number of buckets), at most a dozen.

#include <cstdint>
#include <span>
#include <vector>

namespace dropd::ops {

struct Histogram {
  explicit Histogram(std::span<const double> upper_bounds)
      : bounds(upper_bounds), counts(upper_bounds.size(), 0) {}

  void observe(double value) {
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      if (value <= bounds[i]) {
        ++counts[i];  // only the first bucket that holds it: render() sums
        break;
      }
    }
    sum += value;
    ++count;
  }

  std::span<const double> bounds;  // ascending; +Inf is implied
  std::vector<std::uint64_t> counts;
  double sum = 0;
  std::uint64_t count = 0;
};

}  // namespace dropd::ops
