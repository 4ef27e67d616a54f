#pragma once

// Undoes `Content-Encoding: gzip` (RFC 1952, through zlib) piece by piece,
// with a cap on the decoded size so that a small answer that inflates to
// gigabytes (a gzip bomb) fails the request instead of the process. Pure
// apart from zlib's own allocations; any thread, one owner.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"

namespace dropd::net {

class GzipDecoder {
 public:
  // `max_output_bytes`: the decoded bytes allowed in all; `limit_name` is
  // the setting that sets it, for the error ("max_response_bytes").
  GzipDecoder(std::size_t max_output_bytes, const char* limit_name);
  GzipDecoder(GzipDecoder&&) noexcept;
  GzipDecoder& operator=(GzipDecoder&&) noexcept;
  ~GzipDecoder();

  // The decoded bytes `bytes` completes. kTooLarge past the cap
  // ("response body over max_response_bytes (1048576): gzip output passed
  // 1048576 bytes"); kProtocol for data that is not gzip. Bytes after the
  // end of the gzip stream are ignored.
  [[nodiscard]] Result<std::string> feed(std::string_view bytes);
  // kProtocol when the gzip stream has not ended (a truncated body).
  [[nodiscard]] Status finish() const;

 private:
  struct State;  // z_stream, kept out of this header
  std::unique_ptr<State> state_;
  std::size_t max_output_bytes_;
  const char* limit_name_;
  std::size_t produced_ = 0;
  bool ended_ = false;
};

}  // namespace dropd::net
