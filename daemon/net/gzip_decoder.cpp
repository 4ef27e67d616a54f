#include "dropd/net/gzip_decoder.hpp"

#include <zlib.h>

#include <fmt/format.h>

namespace dropd::net {

struct GzipDecoder::State {
  z_stream z{};
  bool ready = false;  // inflateInit2 succeeded: inflateEnd is owed
  ~State() {
    if (ready) {
      inflateEnd(&z);
    }
  }
};

GzipDecoder::GzipDecoder(std::size_t max_output_bytes, const char* limit_name)
    : state_(std::make_unique<State>()),
      max_output_bytes_(max_output_bytes),
      limit_name_(limit_name) {
  // 16 + MAX_WBITS: a gzip wrapper, not zlib's own.
  state_->ready = inflateInit2(&state_->z, 16 + MAX_WBITS) == Z_OK;
}

GzipDecoder::GzipDecoder(GzipDecoder&&) noexcept = default;
GzipDecoder& GzipDecoder::operator=(GzipDecoder&&) noexcept = default;
GzipDecoder::~GzipDecoder() = default;

Result<std::string> GzipDecoder::feed(std::string_view bytes) {
  if (!state_->ready) {
    return makeError(ErrorCode::kProtocol, "gzip: inflateInit2 failed");
  }
  std::string out;
  z_stream& z = state_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  char buf[16 * 1024];
  while (!ended_ && z.avail_in > 0) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return makeError(ErrorCode::kProtocol,
                       std::string("gzip: ") + (z.msg != nullptr ? z.msg : "bad data"));
    }
    const std::size_t n = sizeof buf - z.avail_out;
    produced_ += n;
    if (produced_ > max_output_bytes_) {
      return makeError(ErrorCode::kTooLarge,
                       fmt::format("response body over {} ({}): gzip output passed {} bytes",
                                   limit_name_, max_output_bytes_, max_output_bytes_));
    }
    out.append(buf, n);
    ended_ = rc == Z_STREAM_END;
    if (rc == Z_BUF_ERROR && n == 0) {
      break;  // needs more input than this piece holds
    }
  }
  return out;
}

Status GzipDecoder::finish() const {
  if (!ended_) {
    return makeError(ErrorCode::kProtocol, "gzip: body ended inside the compressed stream");
  }
  return {};
}

}  // namespace dropd::net
