#pragma once

// What every fuzz target uses to state an invariant. A broken invariant
// prints the condition and its place, then aborts: libFuzzer saves the input
// as a crash file, and the replay driver (replay_main.cpp) fails its ctest.
// Not assert(): the targets must check in Release builds too.

#include <cstdio>
#include <cstdlib>

namespace dropd::fuzz {

[[noreturn]] inline void failCheck(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, condition);
  std::abort();
}

}  // namespace dropd::fuzz

#define DROPD_FUZZ_CHECK(cond)                             \
  do {                                                     \
    if (!(cond)) {                                         \
      ::dropd::fuzz::failCheck(#cond, __FILE__, __LINE__); \
    }                                                      \
  } while (false)
