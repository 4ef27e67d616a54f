#pragma once

// The one way a wrapper gives its handle back: uv_close() now, free the heap
// State in the close callback (never earlier: libuv still holds the handle
// until then). Every State has a handle member named `raw` whose `data`
// points at the State.

#include <memory>

#include <uv.h>

namespace dropd::uv::detail {

template <typename State>
void closeState(std::unique_ptr<State> state) noexcept {
  if (!state) {
    return;
  }
  State* owned_by_libuv = state.release();  // until the close callback below
  owned_by_libuv->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&owned_by_libuv->raw), [](uv_handle_t* raw) noexcept {
    const std::unique_ptr<State> reclaimed{static_cast<State*>(raw->data)};
  });
}

}  // namespace dropd::uv::detail
