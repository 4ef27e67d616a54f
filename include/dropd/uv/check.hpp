#pragma once

// DROPD_CHECK: for "can't happen after startup" cases (a start call failing on
// a handle that is already initialised, OOM). It prints the condition and
// where it failed to stderr and aborts, like libuv's fs-poll.c and Envoy's
// RELEASE_ASSERT. Never use it on data that came from outside the process.

namespace dropd::detail {

[[noreturn]] void checkFailed(const char* condition, const char* what, const char* file,
                              int line) noexcept;

}  // namespace dropd::detail

#define DROPD_CHECK(condition, what)                                        \
  do {                                                                      \
    if (!(condition)) {                                                     \
      ::dropd::detail::checkFailed(#condition, (what), __FILE__, __LINE__); \
    }                                                                       \
  } while (false)
