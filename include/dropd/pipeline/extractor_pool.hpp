#pragma once

// A bounded pool of dropd-extract helper processes for one pipeline
// (docs/extract.md, "Isolation and the pool"). Each helper is started with
// uv_spawn on first need, serves one Request at a time over its stdin and
// stdout (extract/protocol.hpp), and is reused for the next file. Requests
// wait in order in front of the pool; the pipeline's ReadBudget bounds how
// many (a job holds its read's room while it is extracted).
//
// A helper that exits, is killed by a signal, closes its stdout, sends a
// frame that does not decode or answers another id is replaced, and the
// file it was working on gets an Outcome of kind kCrashed with the reason.
// A file that takes longer than `timeout` gets kTimedOut: its helper is
// killed with SIGKILL and replaced. The pool never retries: its owner
// counts tries (the ledger's extract_tries) and decides.
//
// Loop thread only. Every `done` is called exactly once: from a libuv
// callback, from shutdown(), or from inside submit() when no helper can be
// started (kUnavailable) or the pool is shut down (kStopped). The pool must
// not be destroyed before closed(): helpers still running are reaped only
// while it lives (it SIGKILLs them when destroyed early).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/extract/protocol.hpp"
#include "dropd/uv/timer.hpp"

namespace dropd::pipeline {

struct ExtractorPoolConfig {
  std::string program;  // the dropd-extract binary (absolute)
  std::size_t helpers = 2;
  std::chrono::milliseconds timeout{60000};  // wall clock, per file
  std::uint64_t memory_bytes = 0;            // --memory, 0: not passed
  std::uint64_t cpu_seconds = 0;             // --cpu-seconds, 0: not passed
  std::string pipeline;                      // for the log
};

struct ExtractOutcome {
  enum class Kind {
    kReply,        // the helper answered: `reply` holds a Document or a Failure
    kCrashed,      // the helper died or broke the protocol on this file: `reason`
    kTimedOut,     // no answer within the timeout, or the CPU limit hit (SIGXCPU): `reason`
    kUnavailable,  // no helper could be started: `reason` (not the file's fault)
    kStopped,      // shutdown() came first: nothing is known about the file
  };
  Kind kind = Kind::kStopped;
  std::optional<extract::Reply> reply;
  std::string reason;
};

class ExtractorPool {
 public:
  using DoneFn = std::function<void(ExtractOutcome)>;

  ExtractorPool(uv_loop_t& loop, spdlog::logger& log, ExtractorPoolConfig config);
  ~ExtractorPool();
  ExtractorPool(const ExtractorPool&) = delete;
  ExtractorPool& operator=(const ExtractorPool&) = delete;

  // Extracts `path` with `options`; `done` gets the outcome later.
  void submit(std::string path, extract::Options options, DoneFn done);
  // Stops taking files: every waiting and in-flight `done` gets kStopped
  // now, each helper's stdin is closed (it exits at EOF), and those still
  // running after `grace` are killed with SIGKILL. Idempotent.
  void shutdown(std::chrono::milliseconds grace);
  // Every helper has exited and been reaped (after shutdown(), or before the
  // first file).
  [[nodiscard]] bool closed() const { return helpers_.empty(); }
  [[nodiscard]] std::size_t waiting() const { return queue_.size(); }
  [[nodiscard]] std::size_t busy() const;
  // The pids of the running helpers (tests kill them).
  [[nodiscard]] std::vector<int> pidsForTest() const;

 private:
  struct Helper;
  struct Pending {
    extract::Request request;
    DoneFn done;
  };

  void pump();
  [[nodiscard]] Helper* idleHelper();
  [[nodiscard]] Helper* startHelper(std::string& error);
  void send(Helper& helper, Pending pending);
  void onBytes(Helper& helper, Result<std::string_view> bytes);
  void onFrame(Helper& helper, const std::string& payload);
  // The helper is broken: its file (if any) fails with `reason` once it has
  // exited; it is killed now.
  void breakHelper(Helper& helper, ExtractOutcome::Kind kind, std::string reason);
  void onExit(Helper& helper, std::int64_t code, int signal);
  void finish(Helper& helper, ExtractOutcome outcome);
  void remove(Helper& helper);

  uv_loop_t& loop_;
  spdlog::logger& log_;
  const ExtractorPoolConfig config_;
  std::deque<Pending> queue_;
  std::vector<std::unique_ptr<Helper>> helpers_;
  std::optional<uv::Timer> grace_timer_;  // shutdown(): SIGKILL what is left
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
};

}  // namespace dropd::pipeline
