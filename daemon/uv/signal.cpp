#include "dropd/uv/signal.hpp"

#include "dropd/uv/check.hpp"

#include "uv/handle_close.hpp"

namespace dropd::uv {

namespace detail {
struct SignalState {
  uv_signal_t raw{};
  std::function<void(int)> cb;
  bool closing = false;
};
}  // namespace detail

namespace {

void onSignal(uv_signal_t* raw, int signum) noexcept {
  auto* state = static_cast<detail::SignalState*>(raw->data);
  if (!state->closing) {
    state->cb(signum);  // may destroy the Signal: the State lives until onClose
  }
}

}  // namespace

Result<Signal> Signal::create(uv_loop_t& loop) {
  auto state = std::make_unique<detail::SignalState>();
  if (const int rc = uv_signal_init(&loop, &state->raw); rc < 0) {
    return uvError(rc, "uv_signal_init");
  }
  state->raw.data = state.get();
  return Signal{std::move(state)};
}

Signal::Signal(std::unique_ptr<detail::SignalState> state) noexcept : state_(std::move(state)) {}
Signal::Signal(Signal&& other) noexcept = default;
Signal::~Signal() { close(); }

Signal& Signal::operator=(Signal&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Status Signal::start(int signum, std::function<void(int)> cb) {
  DROPD_CHECK(state_ != nullptr, "Signal used after close");
  state_->cb = std::move(cb);
  if (const int rc = uv_signal_start(&state_->raw, onSignal, signum); rc < 0) {
    return uvError(rc, "uv_signal_start");
  }
  return {};
}

void Signal::stop() noexcept {
  if (state_) {
    uv_signal_stop(&state_->raw);
  }
}

void Signal::unref() noexcept {
  if (state_) {
    uv_unref(reinterpret_cast<uv_handle_t*>(&state_->raw));
  }
}

void Signal::close() noexcept { detail::closeState(std::move(state_)); }

}  // namespace dropd::uv
