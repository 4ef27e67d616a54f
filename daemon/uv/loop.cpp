#include "dropd/uv/loop.hpp"

#include <cstdio>

#include "dropd/uv/check.hpp"

namespace dropd::uv {

namespace {

void closeStraggler(uv_handle_t* handle, void* /*arg*/) noexcept {
  if (uv_is_closing(handle) != 0) {
    return;
  }
  std::fprintf(stderr, "dropd: loop shutdown found an open %s handle; closing it\n",
               uv_handle_type_name(uv_handle_get_type(handle)));
  uv_close(handle, nullptr);  // its State leaks on purpose: an owner may still point at it
}

void countOpen(uv_handle_t* handle, void* arg) noexcept {
  if (uv_is_closing(handle) == 0) {
    ++*static_cast<std::size_t*>(arg);
  }
}

}  // namespace

std::size_t countOpenHandles(uv_loop_t& loop) noexcept {
  std::size_t open = 0;
  uv_walk(&loop, countOpen, &open);
  return open;
}

Result<Loop> Loop::create() {
  auto raw = std::make_unique<uv_loop_t>();
  if (const int rc = uv_loop_init(raw.get()); rc < 0) {
    return uvError(rc, "uv_loop_init");
  }
  return Loop{std::unique_ptr<uv_loop_t, Deleter>{raw.release()}};
}

Loop::Loop(std::unique_ptr<uv_loop_t, Deleter> raw) noexcept : raw_(std::move(raw)) {}
Loop::~Loop() = default;

void Loop::Deleter::operator()(uv_loop_t* loop) const noexcept {
  const std::unique_ptr<uv_loop_t> owned{loop};
  // Close callbacks and requests still pending (writes, pool work) finish
  // here; stragglers are closed first so that uv_run() can return.
  uv_walk(loop, closeStraggler, nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  const int rc = uv_loop_close(loop);
  DROPD_CHECK(rc == 0, "uv_loop_close after draining the loop");
}

bool Loop::run(uv_run_mode mode) noexcept { return uv_run(raw_.get(), mode) != 0; }

void Loop::stop() noexcept { uv_stop(raw_.get()); }

std::size_t Loop::openHandles() const noexcept { return countOpenHandles(*raw_); }

}  // namespace dropd::uv
