#include "dropd/uv/async.hpp"

#include "dropd/uv/check.hpp"

#include "uv/handle_close.hpp"

namespace dropd::uv {

namespace detail {
struct AsyncState {
  uv_async_t raw{};
  std::function<void()> cb;
  bool closing = false;
};
}  // namespace detail

namespace {

void onAsync(uv_async_t* raw) noexcept {
  auto* state = static_cast<detail::AsyncState*>(raw->data);
  if (!state->closing) {
    state->cb();  // may destroy the Async: the State lives until onClose
  }
}

}  // namespace

Result<Async> Async::create(uv_loop_t& loop, std::function<void()> cb) {
  auto state = std::make_unique<detail::AsyncState>();
  state->cb = std::move(cb);
  if (const int rc = uv_async_init(&loop, &state->raw, onAsync); rc < 0) {
    return uvError(rc, "uv_async_init");
  }
  state->raw.data = state.get();
  return Async{std::move(state)};
}

Async::Async(std::unique_ptr<detail::AsyncState> state) noexcept : state_(std::move(state)) {}
Async::Async(Async&& other) noexcept = default;
Async::~Async() { close(); }

Async& Async::operator=(Async&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

Status Async::send() const {
  DROPD_CHECK(state_ != nullptr, "Async used after close");
  if (const int rc = uv_async_send(&state_->raw); rc < 0) {
    return uvError(rc, "uv_async_send");
  }
  return {};
}

void Async::close() noexcept { detail::closeState(std::move(state_)); }

}  // namespace dropd::uv
