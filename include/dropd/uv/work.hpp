#pragma once

// Threadpool work with data passed by value (STYLE.md Example C). `work` runs
// on a libuv pool thread with its input moved in: it must not touch
// loop-thread objects or call libuv (except uv_async_send). `done` runs on the
// loop thread exactly once with the work's result, or with a kSystem error
// (sys == UV_ECANCELED) if the work was cancelled before it started.

#include <functional>
#include <memory>
#include <utility>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

template <typename In, typename Out>
using WorkFn = std::function<Result<Out>(In)>;
template <typename Out>
using DoneFn = std::function<void(Result<Out>)>;

template <typename In, typename Out>
[[nodiscard]] Status queueWork(uv_loop_t& loop, In in, WorkFn<In, Out> work, DoneFn<Out> done) {
  struct Item {
    uv_work_t req{};
    In in;
    WorkFn<In, Out> work;
    DoneFn<Out> done;
    Result<Out> out{};
  };
  auto item = std::make_unique<Item>(Item{{}, std::move(in), std::move(work), std::move(done), {}});
  item->req.data = item.get();
  const int rc = uv_queue_work(
      &loop, &item->req,
      [](uv_work_t* r) noexcept {  // pool thread
        auto* it = static_cast<Item*>(r->data);
        it->out = it->work(std::move(it->in));
      },
      [](uv_work_t* r, int status) noexcept {  // loop thread
        std::unique_ptr<Item> it{static_cast<Item*>(r->data)};
        it->done(status < 0 ? Result<Out>{uvError(status, "uv_queue_work")} : std::move(it->out));
      });
  if (rc < 0) {
    return uvError(rc, "uv_queue_work");
  }
  (void)item.release();  // libuv owns it until the after-work callback
  return {};
}

}  // namespace dropd::uv
