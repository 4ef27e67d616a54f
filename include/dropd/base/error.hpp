#pragma once

// The error type of everything that runs after uv_run() has started: no
// exceptions there, functions return Result<T> or Status instead. Plain data,
// usable from any thread. It lives in the base module, which every module may
// use (config, llm and file included, which must not know libuv or each
// other), and does not include uv.h.

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace dropd {

enum class ErrorCode {
  kSystem,     // a syscall or libuv call failed; `sys` holds the negative errno / UV_E* code
  kTimeout,    // a deadline passed
  kCancelled,  // the operation was stopped on purpose (shutdown, close)
  kProtocol,   // the peer broke the protocol (bad HTTP, bad JSON)
  kTooLarge,   // the peer kept to the protocol, but sent more than a limit of ours allows
  kInvalid,    // bad input that belongs to the caller (bad URL, bad file)
  kUntrusted,  // the peer's TLS certificate did not verify (unknown CA, wrong name, expired)
  kRejected,   // the peer refused our credentials (a proxy's 407): a retry with them will not do
};

struct Error {
  ErrorCode code = ErrorCode::kSystem;
  int sys = 0;          // libuv/errno code (negative), 0 when not a system error
  std::string context;  // the call and its argument, e.g. "open(/x/y)"

  // "context: strerror" for system errors, else the context.
  [[nodiscard]] std::string message() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

[[nodiscard]] inline tl::unexpected<Error> makeError(ErrorCode code, std::string context) {
  return tl::unexpected<Error>(Error{code, 0, std::move(context)});
}

// A libuv return code (negative UV_E*, which equals -errno on Linux).
[[nodiscard]] tl::unexpected<Error> uvError(int rc, std::string context);

// errno after a failed syscall.
[[nodiscard]] tl::unexpected<Error> sysError(int err, std::string context);

}  // namespace dropd
