#include "dropd/uv/child_process.hpp"

#include <signal.h>
#include <string.h>

#include <array>

#include <fmt/format.h>

#include "dropd/uv/check.hpp"

namespace dropd::uv {

namespace detail {
// The process handle and both pipes. Freed when the last of the three
// handles that were initialised has closed.
struct ChildState {
  uv_process_t process{};
  uv_pipe_t in{};   // the child's stdin (we write)
  uv_pipe_t out{};  // the child's stdout (we read)
  int open_handles = 0;
  bool in_open = false;
  bool closing = false;
  bool exited = false;
  int pid = 0;
  ChildProcess::ExitFn exit_cb;
  ChildProcess::ReadFn read_cb;
  std::array<char, 64 * 1024> read_buf{};
};
}  // namespace detail

namespace {

using detail::ChildState;

struct WriteReq {
  uv_write_t req{};
  std::string bytes;
  ChildProcess::DoneFn cb;
};

void onHandleClosed(uv_handle_t* handle) noexcept {
  auto* state = static_cast<ChildState*>(handle->data);
  if (--state->open_handles == 0) {
    const std::unique_ptr<ChildState> reclaimed{state};
  }
}

void closeHandle(uv_handle_t* handle) noexcept {
  if (!uv_is_closing(handle)) {
    uv_close(handle, onHandleClosed);
  }
}

void onExit(uv_process_t* process, int64_t exit_status, int term_signal) noexcept {
  auto* state = static_cast<ChildState*>(process->data);
  state->exited = true;
  if (state->closing || !state->exit_cb) {
    return;
  }
  const ChildProcess::ExitFn cb = std::move(state->exit_cb);
  cb(ExitStatus{exit_status, term_signal});  // may destroy the ChildProcess
}

void onAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) noexcept {
  auto* state = static_cast<ChildState*>(handle->data);
  *buf = uv_buf_init(state->read_buf.data(), static_cast<unsigned>(state->read_buf.size()));
}

void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) noexcept {
  auto* state = static_cast<ChildState*>(stream->data);
  if (state->closing || nread == 0) {
    return;
  }
  if (nread < 0) {
    uv_read_stop(stream);  // EOF or an error: nothing more will come
    state->read_cb(uvError(static_cast<int>(nread), "read(child stdout)"));
    return;
  }
  state->read_cb(std::string_view{state->read_buf.data(), static_cast<std::size_t>(nread)});
}

void onWrite(uv_write_t* req, int status) noexcept {
  const std::unique_ptr<WriteReq> owned{static_cast<WriteReq*>(req->data)};
  if (static_cast<ChildState*>(req->handle->data)->closing || !owned->cb) {
    return;
  }
  owned->cb(status < 0 ? Status{uvError(status, "write(child stdin)")} : Status{});
}

}  // namespace

std::string signalName(int signum) {
  const char* abbrev = sigabbrev_np(signum);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", signum);
}

Result<ChildProcess> ChildProcess::spawn(uv_loop_t& loop, const SpawnOptions& options,
                                         ExitFn on_exit) {
  auto state = std::make_unique<ChildState>();
  state->process.data = state.get();
  state->in.data = state.get();
  state->out.data = state.get();
  DROPD_CHECK(uv_pipe_init(&loop, &state->in, 0) == 0, "uv_pipe_init");
  DROPD_CHECK(uv_pipe_init(&loop, &state->out, 0) == 0, "uv_pipe_init");
  state->open_handles = 3;  // the process handle must be closed even if uv_spawn fails
  state->in_open = true;
  state->exit_cb = std::move(on_exit);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(options.file.c_str()));
  for (const std::string& arg : options.args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  std::array<uv_stdio_container_t, 3> stdio{};
  stdio[0].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE);
  stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(&state->in);
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&state->out);
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_options_t opts{};
  opts.exit_cb = onExit;
  opts.file = options.file.c_str();
  opts.args = argv.data();
  opts.stdio_count = static_cast<int>(stdio.size());
  opts.stdio = stdio.data();
  const int rc = uv_spawn(&loop, &state->process, &opts);
  state->pid = state->process.pid;
  ChildProcess child{std::move(state)};
  if (rc < 0) {
    child.state_->exited = true;                                    // nothing to reap
    return uvError(rc, fmt::format("uv_spawn({})", options.file));  // ~ChildProcess closes all
  }
  return child;
}

ChildProcess::ChildProcess(std::unique_ptr<ChildState> state) noexcept : state_(std::move(state)) {}
ChildProcess::ChildProcess(ChildProcess&& other) noexcept = default;
ChildProcess::~ChildProcess() { close(); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Status ChildProcess::startRead(ReadFn cb) {
  DROPD_CHECK(state_ != nullptr, "ChildProcess used after close");
  state_->read_cb = std::move(cb);
  if (const int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&state_->out), onAlloc, onRead);
      rc < 0) {
    return uvError(rc, "uv_read_start(child stdout)");
  }
  return {};
}

Status ChildProcess::write(std::string bytes, DoneFn cb) {
  DROPD_CHECK(state_ != nullptr, "ChildProcess used after close");
  if (!state_->in_open) {
    return uvError(UV_EPIPE, "write(child stdin): closed");
  }
  auto req = std::make_unique<WriteReq>();
  req->bytes = std::move(bytes);
  req->cb = std::move(cb);
  req->req.data = req.get();
  uv_buf_t buf = uv_buf_init(req->bytes.data(), static_cast<unsigned>(req->bytes.size()));
  if (const int rc =
          uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&state_->in), &buf, 1, onWrite);
      rc < 0) {
    return uvError(rc, "uv_write(child stdin)");
  }
  (void)req.release();  // libuv owns it until onWrite
  return {};
}

void ChildProcess::closeStdin() noexcept {
  if (state_ && state_->in_open) {
    state_->in_open = false;
    closeHandle(reinterpret_cast<uv_handle_t*>(&state_->in));
  }
}

int ChildProcess::kill(int signum) noexcept {
  if (!state_ || state_->exited) {
    return UV_ESRCH;
  }
  return uv_process_kill(&state_->process, signum);
}

int ChildProcess::pid() const noexcept { return state_ ? state_->pid : 0; }
bool ChildProcess::exited() const noexcept { return !state_ || state_->exited; }

void ChildProcess::close() noexcept {
  if (!state_) {
    return;
  }
  ChildState* state = state_.release();  // owned by libuv until the last close callback
  state->closing = true;
  if (!state->exited) {
    (void)uv_process_kill(&state->process, SIGKILL);  // never leave a helper running
  }
  state->in_open = false;
  closeHandle(reinterpret_cast<uv_handle_t*>(&state->in));
  closeHandle(reinterpret_cast<uv_handle_t*>(&state->out));
  closeHandle(reinterpret_cast<uv_handle_t*>(&state->process));
}

}  // namespace dropd::uv
