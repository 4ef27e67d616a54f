#include "dropd/uv/poll.hpp"

#include "dropd/uv/check.hpp"

#include "uv/handle_close.hpp"

namespace dropd::uv {

namespace detail {
struct PollState {
  uv_poll_t raw{};
  Poll::EventFn cb;
  bool closing = false;
};
}  // namespace detail

namespace {

void onPoll(uv_poll_t* raw, int status, int events) noexcept {
  auto* state = static_cast<detail::PollState*>(raw->data);
  if (state->closing) {
    return;
  }
  // May destroy the Poll: the State lives on until the close callback.
  state->cb(status < 0 ? Result<int>{uvError(status, "uv_poll")} : Result<int>{events});
}

}  // namespace

Result<Poll> Poll::create(uv_loop_t& loop, int fd) {
  auto state = std::make_unique<detail::PollState>();
  if (const int rc = uv_poll_init(&loop, &state->raw, fd); rc < 0) {
    return uvError(rc, "uv_poll_init");
  }
  state->raw.data = state.get();
  return Poll{std::move(state)};
}

Poll::Poll(std::unique_ptr<detail::PollState> state) noexcept : state_(std::move(state)) {}
Poll::Poll(Poll&& other) noexcept = default;
Poll::~Poll() { close(); }

Poll& Poll::operator=(Poll&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Status Poll::start(int events, EventFn cb) {
  DROPD_CHECK(state_ != nullptr, "Poll used after close");
  state_->cb = std::move(cb);
  if (const int rc = uv_poll_start(&state_->raw, events, onPoll); rc < 0) {
    return uvError(rc, "uv_poll_start");
  }
  return {};
}

void Poll::stop() noexcept {
  if (state_) {
    uv_poll_stop(&state_->raw);
  }
}

void Poll::close() noexcept { detail::closeState(std::move(state_)); }

}  // namespace dropd::uv
