#include "dropd/throttle/fair_queue.hpp"

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using dropd::throttle::FairQueue;

namespace {

std::vector<std::string> popAll(FairQueue& queue) {
  std::vector<std::string> out;
  while (auto item = queue.pop()) {
    out.push_back(item->tenant + std::to_string(item->id));
  }
  return out;
}

}  // namespace

TEST_CASE("FairQueue serves tenants in turn, each in FIFO order", "[throttle]") {
  FairQueue queue;
  CHECK_FALSE(queue.pop());
  for (std::uint64_t i = 1; i <= 4; ++i) {
    queue.push("a", i);
  }
  queue.push("b", 1);
  queue.push("c", 1);
  queue.push("c", 2);
  CHECK(queue.size() == 7);
  CHECK(queue.size("a") == 4);
  CHECK(popAll(queue) == std::vector<std::string>{"a1", "b1", "c1", "a2", "c2", "a3", "a4"});
  CHECK(queue.empty());
}

TEST_CASE("FairQueue does not let a deep backlog starve a newcomer", "[throttle]") {
  FairQueue queue;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    queue.push("bulk", i);
  }
  (void)queue.pop();
  queue.push("small", 7);
  // The newcomer waits at most one turn of every other tenant.
  CHECK(queue.pop()->tenant == "bulk");
  const auto next = queue.pop();
  CHECK(next->tenant == "small");
  CHECK(next->id == 7);
}

TEST_CASE("FairQueue shares pops evenly among busy tenants", "[throttle]") {
  FairQueue queue;
  for (std::uint64_t i = 0; i < 300; ++i) {
    queue.push("a", i);
    queue.push("b", i);
    queue.push("c", i);
  }
  std::map<std::string, int> served;
  for (int i = 0; i < 90; ++i) {
    ++served[queue.pop()->tenant];
  }
  CHECK(served == std::map<std::string, int>{{"a", 30}, {"b", 30}, {"c", 30}});
}

TEST_CASE("FairQueue removes a cancelled id", "[throttle]") {
  FairQueue queue;
  queue.push("a", 1);
  queue.push("b", 1);
  queue.push("a", 2);
  CHECK(queue.remove("a", 1));
  CHECK_FALSE(queue.remove("a", 1));
  CHECK_FALSE(queue.remove("zzz", 1));
  CHECK(queue.remove("b", 1));
  CHECK(queue.size() == 1);
  CHECK(popAll(queue) == std::vector<std::string>{"a2"});
}
