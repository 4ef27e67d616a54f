#include "dropd/throttle/fair_queue.hpp"

#include <algorithm>

namespace dropd::throttle {

void FairQueue::push(std::string_view tenant, std::uint64_t id) {
  auto [it, inserted] = queues_.try_emplace(std::string(tenant));
  if (it->second.empty()) {
    turn_.push_back(it->first);  // a tenant joins the rotation at the back
  }
  it->second.push_back(id);
  ++size_;
}

std::optional<FairQueue::Item> FairQueue::pop() {
  if (turn_.empty()) {
    return std::nullopt;
  }
  std::string tenant = std::move(turn_.front());
  turn_.pop_front();
  auto& queue = queues_.at(tenant);
  const std::uint64_t id = queue.front();
  queue.pop_front();
  --size_;
  if (queue.empty()) {
    queues_.erase(tenant);
  } else {
    turn_.push_back(tenant);
  }
  return Item{std::move(tenant), id};
}

bool FairQueue::remove(std::string_view tenant, std::uint64_t id) {
  const auto it = queues_.find(std::string(tenant));
  if (it == queues_.end()) {
    return false;
  }
  auto& queue = it->second;
  const auto pos = std::find(queue.begin(), queue.end(), id);
  if (pos == queue.end()) {
    return false;
  }
  queue.erase(pos);
  --size_;
  if (queue.empty()) {
    turn_.erase(std::find(turn_.begin(), turn_.end(), it->first));
    queues_.erase(it);
  }
  return true;
}

std::size_t FairQueue::size(std::string_view tenant) const {
  const auto it = queues_.find(std::string(tenant));
  return it == queues_.end() ? 0 : it->second.size();
}

}  // namespace dropd::throttle
