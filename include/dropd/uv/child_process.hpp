#pragma once

// Owns one child process started with uv_spawn, with a pipe to its stdin and
// one from its stdout (stderr is inherited). Loop thread only.
//
// The child is reaped by libuv only while the process handle is open, so the
// owner waits for the exit callback before it destroys a ChildProcess. A
// ChildProcess destroyed earlier sends SIGKILL first; the child is then left
// to be reaped by nobody until dropd exits (a zombie, not a runaway).
// Destroying it (or close()) closes its three handles; their memory is freed
// in the last close callback, so every callback may destroy the ChildProcess.
// Once closed no user callback runs again.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct ChildState;
}

struct SpawnOptions {
  std::string file;               // the program, as execvp(3) finds it
  std::vector<std::string> args;  // argv[1..]; argv[0] is `file`
};

// How the child ended: `signal` is 0 unless a signal ended it.
struct ExitStatus {
  std::int64_t code = 0;
  int signal = 0;
};

class ChildProcess {
 public:
  using ExitFn = std::function<void(ExitStatus)>;
  // Bytes from the child's stdout, or an error: sys == UV_EOF once it closed.
  using ReadFn = std::function<void(Result<std::string_view>)>;
  using DoneFn = std::function<void(Status)>;

  // Starts the child; `on_exit` runs once, when it has exited and is reaped.
  // Fails (naming the program) when it cannot be started.
  [[nodiscard]] static Result<ChildProcess> spawn(uv_loop_t& loop, const SpawnOptions& options,
                                                  ExitFn on_exit);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  [[nodiscard]] Status startRead(ReadFn cb);
  // Writes `bytes` to the child's stdin; `cb` (may be empty) reports completion.
  [[nodiscard]] Status write(std::string bytes, DoneFn cb);
  // EOF on the child's stdin. Idempotent.
  void closeStdin() noexcept;
  // uv_process_kill: 0, or a negative UV_E* (UV_ESRCH once it is gone).
  int kill(int signum) noexcept;
  [[nodiscard]] int pid() const noexcept;
  [[nodiscard]] bool exited() const noexcept;
  void close() noexcept;

 private:
  explicit ChildProcess(std::unique_ptr<detail::ChildState> state) noexcept;
  std::unique_ptr<detail::ChildState> state_;  // null once moved from or closed
};

// "SIGSEGV", "SIGKILL", ... or "signal N".
[[nodiscard]] std::string signalName(int signum);

}  // namespace dropd::uv
