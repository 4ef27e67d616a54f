#include "dropd/pipeline/lookup_queue.hpp"

namespace dropd::pipeline {

void LookupQueue::startNext() {
  if (!lookup_ || waiting_.empty()) {
    return;
  }
  std::function<void()> next = std::move(waiting_.front());
  waiting_.pop_front();
  next();  // lends lookup_ to the pool
}

}  // namespace dropd::pipeline
