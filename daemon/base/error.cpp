#include "dropd/base/error.hpp"

#include <cstring>

// uv_strerror() only: a pure table of the names of libuv's error codes, which
// are -errno for system errors plus a few of libuv's own (UV_EOF, UV_EAI_*).
// No handle, loop or other libuv state is touched from the base module.
#include <uv.h>

namespace dropd {

std::string Error::message() const {
  if (sys == 0) {
    return context;
  }
  return context + ": " + uv_strerror(sys);
}

tl::unexpected<Error> uvError(int rc, std::string context) {
  return tl::unexpected<Error>(Error{ErrorCode::kSystem, rc, std::move(context)});
}

tl::unexpected<Error> sysError(int err, std::string context) {
  // libuv's UV_E* codes are -errno on Unix, so uv_strerror() names both.
  return tl::unexpected<Error>(Error{ErrorCode::kSystem, -err, std::move(context)});
}

}  // namespace dropd
