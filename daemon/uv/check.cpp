#include "dropd/uv/check.hpp"

#include <cstdio>
#include <cstdlib>

namespace dropd::detail {

void checkFailed(const char* condition, const char* what, const char* file, int line) noexcept {
  // No logger here on purpose: this runs when the process is already broken.
  std::fprintf(stderr, "dropd: check failed: %s (%s) at %s:%d\n", condition, what, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace dropd::detail
