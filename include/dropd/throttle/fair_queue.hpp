#pragma once

// Round-robin queue shared by several tenants (pipelines) that send to one
// endpoint, so that a pipeline with a deep backlog cannot starve the others:
// each pop serves the next tenant in turn that has something waiting, and
// each tenant's own items come out in FIFO order. Holds opaque ids; the
// caller owns whatever they name. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dropd::throttle {

class FairQueue {
 public:
  struct Item {
    std::string tenant;
    std::uint64_t id = 0;
  };

  void push(std::string_view tenant, std::uint64_t id);
  // The next item, round-robin over tenants; nullopt when empty.
  [[nodiscard]] std::optional<Item> pop();
  // Removes one queued id (a job cancelled while waiting). False if absent.
  bool remove(std::string_view tenant, std::uint64_t id);

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size(std::string_view tenant) const;

 private:
  std::unordered_map<std::string, std::deque<std::uint64_t>> queues_;
  std::deque<std::string> turn_;  // tenants with items, next to serve first
  std::size_t size_ = 0;
};

}  // namespace dropd::throttle
