#include "dropd/uv/timer.hpp"

#include <algorithm>

#include "dropd/uv/check.hpp"

#include "uv/handle_close.hpp"

namespace dropd::uv {

namespace detail {
struct TimerState {
  uv_timer_t raw{};
  std::function<void()> cb;
  bool closing = false;
};
}  // namespace detail

namespace {

void onTimer(uv_timer_t* raw) noexcept {
  auto* state = static_cast<detail::TimerState*>(raw->data);
  if (state->closing) {
    return;
  }
  if (uv_timer_get_repeat(raw) != 0) {
    state->cb();  // may destroy the Timer: the State lives on until onClose
    return;
  }
  // A one-shot callback often restarts its timer with a new callback; moving
  // it out first keeps the running std::function alive while that happens.
  const std::function<void()> cb = std::move(state->cb);
  cb();
}

}  // namespace

Result<Timer> Timer::create(uv_loop_t& loop) {
  auto state = std::make_unique<detail::TimerState>();
  if (const int rc = uv_timer_init(&loop, &state->raw); rc < 0) {
    return uvError(rc, "uv_timer_init");  // never initialised: a plain free is fine
  }
  state->raw.data = state.get();  // the State, not the Timer: Timers move
  return Timer{std::move(state)};
}

Timer::Timer(std::unique_ptr<detail::TimerState> state) noexcept : state_(std::move(state)) {}
Timer::Timer(Timer&& other) noexcept = default;
Timer::~Timer() { close(); }

Timer& Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Status Timer::start(std::chrono::milliseconds timeout, std::function<void()> cb) {
  return startRepeat(timeout, std::chrono::milliseconds{0}, std::move(cb));
}

Status Timer::startRepeat(std::chrono::milliseconds first, std::chrono::milliseconds repeat,
                          std::function<void()> cb) {
  DROPD_CHECK(state_ != nullptr, "Timer used after close");
  state_->cb = std::move(cb);
  const auto to_ms = [](std::chrono::milliseconds d) {
    return static_cast<uint64_t>(std::max<std::chrono::milliseconds::rep>(d.count(), 0));
  };
  if (const int rc = uv_timer_start(&state_->raw, onTimer, to_ms(first), to_ms(repeat)); rc < 0) {
    return uvError(rc, "uv_timer_start");
  }
  return {};
}

void Timer::stop() noexcept {
  if (state_) {
    uv_timer_stop(&state_->raw);
  }
}

bool Timer::active() const noexcept {
  return state_ && uv_is_active(reinterpret_cast<const uv_handle_t*>(&state_->raw)) != 0;
}

void Timer::unref() noexcept {
  if (state_) {
    uv_unref(reinterpret_cast<uv_handle_t*>(&state_->raw));
  }
}

void Timer::close() noexcept { detail::closeState(std::move(state_)); }

}  // namespace dropd::uv
