#pragma once

// The one owner of back-pressure for one endpoint: how many request bodies
// may exist for it at once, and who is woken when room frees. A body is
// held from the start of a file's read until the Dispatcher hands its job
// back (answered or failed), or until the read ends without submitting it
// (skipped, vanished, a duplicate, still being written). At most
// max_in_flight + max(2, max_in_flight / 4) are held (in flight, waiting
// for a slot, in backoff, or being read; docs/pipeline.md "Memory bound"),
// and none is read while the Sink has kHighWater jobs waiting to be
// committed, so memory does not grow with the backlog.
//
// The pipelines sharing the endpoint register as readers; when room frees
// they are asked in turns (the first asked moves on by one each time), so
// one with a deep backlog cannot take all the room every time.
//
// Owned by ops, one per endpoint, built after the Sink (which it reads and
// must outlive it) and destroyed before it; the readers (pipelines) are
// destroyed before it too. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "dropd/pipeline/sink.hpp"

namespace dropd::pipeline {

class ReadBudget {
 public:
  ReadBudget(std::uint32_t max_in_flight, const Sink& sink);
  ReadBudget(const ReadBudget&) = delete;
  ReadBudget& operator=(const ReadBudget&) = delete;

  // max_in_flight + max(2, max_in_flight / 4).
  [[nodiscard]] static std::size_t limitFor(std::uint32_t max_in_flight);

  // A pipeline's pump: reads what room() allows. Called from wake().
  void addReader(std::function<void()> reader);
  // A read may start now: open, a body free, and the Sink below its mark.
  [[nodiscard]] bool room() const;
  void acquire() { ++held_; }  // a read starts
  // A body is gone (the job came back from the Dispatcher, or its read
  // ended without a submission): wakes the readers.
  void release();
  // Room may have freed elsewhere (the Sink committed jobs): asks the
  // readers in turns while there is room.
  void wake();
  // Sending stopped (drain, shutdown): no read starts any more.
  void close() { open_ = false; }

  [[nodiscard]] std::size_t held() const { return held_; }
  [[nodiscard]] std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  const Sink& sink_;
  std::size_t held_ = 0;
  bool open_ = true;
  std::vector<std::function<void()>> readers_;
  std::size_t next_reader_ = 0;  // wake() starts here: readers take turns
};

}  // namespace dropd::pipeline
