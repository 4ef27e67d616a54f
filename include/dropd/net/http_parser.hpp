#pragma once

// Incremental HTTP/1.1 message parser over llhttp, for requests (server side)
// and responses (client side). Any thread, one owner. Content-Length,
// chunked and (responses) read-until-close bodies.
//
// feed() stops at the end of each message, so that bytes of a following
// message stay unread: take() hands the message over and makes the parser
// ready for the next one. In responses, 1xx interim answers (not 101) are
// skipped: complete() is only ever true for a final response.
//
// Errors: kProtocol for a malformed message ("HTTP parse error
// HPE_INVALID_CHUNK_SIZE: ..."); kTooLarge for a body over max_body_bytes,
// refused at the headers when its Content-Length says so, else as soon as
// the chunked or read-until-close body passes the limit ("response body
// over max_response_bytes (67108864): Content-Length 1099511627776").
// Once one is reported the parser stays broken (llhttp's rule).
//
// Chunk-size lines are checked by chunkSizeOf() (chunk_line.hpp), not by
// llhttp, which refuses some legal chunk extensions.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <llhttp.h>

#include "dropd/base/error.hpp"
#include "dropd/net/http_message.hpp"

namespace dropd::net {

struct ParsedMessage {
  int status = 0;      // responses
  std::string method;  // requests
  std::string target;  // requests
  std::vector<Header> headers;
  std::string body;
  bool keep_alive = false;  // the connection may carry another message
};

struct ParserLimits {
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 64 << 20;
  const char* body_limit_name = "max_body_bytes";  // the setting, named in kTooLarge errors
};

class HttpParser {
 public:
  enum class Kind { kRequest, kResponse };

  HttpParser(Kind kind, ParserLimits limits);
  HttpParser(const HttpParser&) = delete;  // llhttp points back at us
  HttpParser& operator=(const HttpParser&) = delete;

  // Parses as much of `data` as belongs to the current message and returns
  // how many bytes that was; complete() tells whether the message ended.
  [[nodiscard]] Result<std::size_t> feed(std::string_view data);
  // The peer closed: completes a read-until-close body, else an error if a
  // message had started.
  [[nodiscard]] Status finish();

  [[nodiscard]] bool complete() const noexcept { return complete_; }
  // True once any byte of the current message arrived.
  [[nodiscard]] bool started() const noexcept { return started_; }
  // True when the body went over the limit (the error was kTooLarge).
  [[nodiscard]] bool tooLarge() const noexcept { return too_large_; }

  // The current message's status once its head is read (0 before).
  [[nodiscard]] int status() const noexcept { return message_.status; }
  // The current message's headers, whole once status() is set.
  [[nodiscard]] const std::vector<Header>& headers() const noexcept { return message_.headers; }
  // Hands over the body bytes read so far and forgets them, for a caller
  // that consumes the body as it arrives; the size limit still counts
  // every byte of the message.
  [[nodiscard]] std::string takeBodySoFar() noexcept { return std::exchange(message_.body, {}); }

  // The finished message; resets the parser for the next one.
  [[nodiscard]] ParsedMessage take();

 private:
  static llhttp_settings_t makeSettings() noexcept;
  static int onMessageBegin(llhttp_t* p) noexcept;
  static int onUrl(llhttp_t* p, const char* at, size_t len) noexcept;
  static int onHeaderField(llhttp_t* p, const char* at, size_t len) noexcept;
  static int onHeaderValue(llhttp_t* p, const char* at, size_t len) noexcept;
  static int onHeaderValueComplete(llhttp_t* p) noexcept;
  static int onHeadersComplete(llhttp_t* p) noexcept;
  static int onBody(llhttp_t* p, const char* at, size_t len) noexcept;
  static int onChunkComplete(llhttp_t* p) noexcept;
  static int onMessageComplete(llhttp_t* p) noexcept;
  [[nodiscard]] Result<std::size_t> execute(std::string_view data);
  [[nodiscard]] Result<std::size_t> feedChunkLine(std::string_view data);
  [[nodiscard]] tl::unexpected<Error> parseError() const;
  int refuse(ErrorCode code, std::string reason) noexcept;
  int refuseTooLarge(const std::string& what) noexcept;

  const ParserLimits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_{};
  ParsedMessage message_;
  std::string field_;  // header name and value arrive in pieces
  std::string value_;
  std::size_t header_bytes_ = 0;
  std::size_t body_bytes_ = 0;  // of the current message, taken or not
  bool started_ = false;
  bool complete_ = false;
  bool too_large_ = false;
  bool interim_ = false;  // the message being parsed is a 1xx to skip
  // llhttp is paused where a chunk-size line starts; we read that line
  // (into chunk_line_ until its LF arrives) and hand llhttp a clean one.
  bool at_chunk_line_ = false;
  std::string chunk_line_;
  // Why a callback of ours refused, since llhttp reports some refusals
  // only as "User callback error".
  std::optional<Error> refusal_;
};

}  // namespace dropd::net
