#include "dropd/pipeline/read_budget.hpp"

#include <algorithm>
#include <cassert>

namespace dropd::pipeline {

ReadBudget::ReadBudget(std::uint32_t max_in_flight, const Sink& sink)
    : limit_(limitFor(max_in_flight)), sink_(sink) {}

std::size_t ReadBudget::limitFor(std::uint32_t max_in_flight) {
  return std::size_t{max_in_flight} + std::max<std::size_t>(2, max_in_flight / 4);
}

void ReadBudget::addReader(std::function<void()> reader) { readers_.push_back(std::move(reader)); }

bool ReadBudget::room() const {
  return open_ && held_ < limit_ && sink_.pending() < Sink::kHighWater;
}

void ReadBudget::release() {
  assert(held_ > 0);
  --held_;
  wake();
}

void ReadBudget::wake() {
  const std::size_t n = readers_.size();
  for (std::size_t i = 0; i < n && room(); ++i) {
    readers_[(next_reader_ + i) % n]();
  }
  if (n > 0) {
    next_reader_ = (next_reader_ + 1) % n;
  }
}

}  // namespace dropd::pipeline
