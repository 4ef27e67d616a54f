#include "support/loop_fixture.hpp"

#include <string>

#include <catch2/catch.hpp>

namespace dropd::test {

namespace {

struct Census {
  const uv_handle_t* ignore = nullptr;
  int open = 0;
  std::string types;
};

void countOpen(uv_handle_t* handle, void* arg) noexcept {
  auto* census = static_cast<Census*>(arg);
  if (handle == census->ignore || uv_is_closing(handle) != 0) {
    return;
  }
  ++census->open;
  census->types += std::string(uv_handle_type_name(uv_handle_get_type(handle))) + " ";
}

void closeLeaked(uv_handle_t* handle, void* /*arg*/) noexcept {
  if (uv_is_closing(handle) == 0) {
    uv_close(handle, nullptr);  // the test has failed already; this only lets the loop close
  }
}

}  // namespace

LoopFixture::LoopFixture() {
  REQUIRE(uv_loop_init(&loop_) == 0);
  REQUIRE(uv_timer_init(&loop_, &guard_) == 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&guard_));
}

LoopFixture::~LoopFixture() {
  Census census{reinterpret_cast<const uv_handle_t*>(&guard_), 0, {}};
  uv_walk(&loop_, countOpen, &census);
  // CHECK, not REQUIRE: a destructor may run while a failed REQUIRE unwinds.
  CHECK(census.open == 0);
  if (census.open != 0) {
    UNSCOPED_INFO("handles left open: " << census.types);
    uv_walk(&loop_, closeLeaked, nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&guard_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop_) == 0);
}

void LoopFixture::runUntil(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  using std::chrono::steady_clock;
  const auto until = steady_clock::now() + deadline;
  uv_ref(reinterpret_cast<uv_handle_t*>(&guard_));
  while (!pred()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - steady_clock::now());
    if (left.count() <= 0) {
      uv_timer_stop(&guard_);
      FAIL("runUntil: condition not met within " << deadline.count() << " ms");
    }
    // The loop's cached time can lag the real clock, so the guard may fire a
    // little early: re-arm it for what is left rather than trusting it.
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&guard_)) == 0) {
      uv_update_time(&loop_);
      uv_timer_start(
          &guard_, [](uv_timer_t*) noexcept {}, static_cast<uint64_t>(left.count()), 0);
    }
    uv_run(&loop_, UV_RUN_ONCE);
  }
  uv_timer_stop(&guard_);
  uv_unref(reinterpret_cast<uv_handle_t*>(&guard_));
}

void LoopFixture::drain() { uv_run(&loop_, UV_RUN_DEFAULT); }

}  // namespace dropd::test
