#include "dropd/net/http_parser.hpp"

#include <fmt/format.h>

#include "dropd/net/chunk_line.hpp"

// llhttp's own choice of body framing, made right after on_headers_complete
// (2: chunked). Internal to llhttp (http.c, compiled into our static
// llhttp target), but asking it rather than copying its rules keeps us in
// step with the parser on which bytes are a chunk-size line.
extern "C" int llhttp__after_headers_complete(llhttp_t* parser, const char* p, const char* endp);

namespace dropd::net {

namespace {

// A chunk-size line longer than this is refused. llhttp sets no limit on
// extensions; real servers send none or a few bytes.
constexpr std::size_t kMaxChunkLineBytes = 4096;

constexpr int kChunkedBody = 2;  // llhttp__after_headers_complete()

// The line's bytes for an error message: printable ASCII as is, the rest as
// \xNN. Not fmt's {:?}, whose escaping asserts on invalid UTF-8 (fmt 9).
std::string printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out;
}

HttpParser& self(llhttp_t* p) noexcept { return *static_cast<HttpParser*>(p->data); }

// RFC 9110 §15.2: a 1xx other than 101 (which switches protocols) is an
// interim answer; the final response of the same exchange follows it.
bool isInterimResponse(const llhttp_t* p) noexcept {
  return p->type == HTTP_RESPONSE && p->status_code >= 100 && p->status_code < 200 &&
         p->status_code != 101;
}

}  // namespace

HttpParser::HttpParser(Kind kind, ParserLimits limits)
    : limits_(limits), settings_(makeSettings()) {
  llhttp_init(&parser_, kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

llhttp_settings_t HttpParser::makeSettings() noexcept {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = onMessageBegin;
  s.on_url = onUrl;
  s.on_header_field = onHeaderField;
  s.on_header_value = onHeaderValue;
  s.on_header_value_complete = onHeaderValueComplete;
  s.on_headers_complete = onHeadersComplete;
  s.on_body = onBody;
  s.on_chunk_complete = onChunkComplete;
  s.on_message_complete = onMessageComplete;
  return s;
}

Result<std::size_t> HttpParser::feed(std::string_view data) {
  if (complete_) {
    return 0;  // the caller must take() first
  }
  if (!data.empty()) {
    started_ = true;
  }
  std::size_t used = 0;
  while (used < data.size() && !complete_) {
    const std::string_view rest = data.substr(used);
    auto step = at_chunk_line_ ? feedChunkLine(rest) : execute(rest);
    if (!step) {
      return tl::unexpected{step.error()};
    }
    used += *step;
  }
  return used;
}

// Runs llhttp over `data` until it ends, the message ends or a chunk-size
// line starts; returns how many bytes it took.
Result<std::size_t> HttpParser::execute(std::string_view data) {
  const llhttp_errno_t rc = llhttp_execute(&parser_, data.data(), data.size());
  if (rc == HPE_OK) {
    return data.size();
  }
  if (rc != HPE_PAUSED) {
    return parseError();
  }
  if (!complete_) {
    at_chunk_line_ = true;  // paused by onHeadersComplete or onChunkComplete
    llhttp_resume(&parser_);
  }
  return static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data());
}

// Collects a chunk-size line, and once its LF is in, checks it and hands
// llhttp only "SIZE\r\n". Why not llhttp itself: 8.1.0 (Debian 12) refuses
// legal lines: a token value followed by a second extension
// ("5;a=1;b=2", its ';' is consumed twice), whitespace before ';' and
// around '=' (RFC 9112 BWS) and quoted-pairs (`"x\"y"`); no lenient flag of
// 8.1 covers chunk extensions. llhttp still checks the size digits and all
// the rest of the framing.
Result<std::size_t> HttpParser::feedChunkLine(std::string_view data) {
  const std::size_t lf = data.find('\n');
  const std::size_t take = lf == std::string_view::npos ? data.size() : lf;
  if (chunk_line_.size() + take > kMaxChunkLineBytes) {
    return makeError(ErrorCode::kProtocol, "HTTP parse error: chunk-size line too long");
  }
  chunk_line_.append(data.substr(0, take));
  if (lf == std::string_view::npos) {
    return data.size();
  }
  std::string_view line{chunk_line_};
  const bool has_cr = !line.empty() && line.back() == '\r';
  line.remove_suffix(has_cr ? 1 : 0);
  const auto size = has_cr ? chunkSizeOf(line) : std::nullopt;
  if (!size) {
    return makeError(ErrorCode::kProtocol, "HTTP parse error: bad chunk-size line \"" +
                                               printable(line.substr(0, 64)) + "\"");
  }
  const std::string clean = std::string(*size) + "\r\n";
  at_chunk_line_ = false;
  chunk_line_.clear();
  if (llhttp_execute(&parser_, clean.data(), clean.size()) != HPE_OK) {
    return parseError();  // a size llhttp refuses (overflow)
  }
  return lf + 1;
}

Status HttpParser::finish() {
  if (complete_ || !started_) {
    return {};
  }
  // onMessageComplete pauses, which llhttp_finish() reports as its result.
  if (const llhttp_errno_t rc = llhttp_finish(&parser_); rc != HPE_OK && !complete_) {
    return parseError();
  }
  if (!complete_) {
    return makeError(ErrorCode::kProtocol, "connection closed inside a message");
  }
  return {};
}

ParsedMessage HttpParser::take() {
  ParsedMessage out = std::move(message_);
  message_ = {};
  field_.clear();
  value_.clear();
  header_bytes_ = 0;
  body_bytes_ = 0;
  started_ = false;
  at_chunk_line_ = false;
  chunk_line_.clear();
  if (complete_) {
    complete_ = false;
    llhttp_resume(&parser_);  // we paused at the end of the message
  }
  return out;
}

tl::unexpected<Error> HttpParser::parseError() const {
  if (refusal_) {
    return tl::unexpected{*refusal_};
  }
  const char* reason = llhttp_get_error_reason(&parser_);
  return makeError(ErrorCode::kProtocol, std::string("HTTP parse error ") +
                                             llhttp_errno_name(llhttp_get_errno(&parser_)) + ": " +
                                             (reason != nullptr ? reason : "?"));
}

int HttpParser::refuse(ErrorCode code, std::string reason) noexcept {
  refusal_ = Error{code, 0, std::move(reason)};
  llhttp_set_error_reason(&parser_, refusal_->context.c_str());
  return HPE_USER;
}

// `what`: what the peer sent, "Content-Length 1099511627776".
int HttpParser::refuseTooLarge(const std::string& what) noexcept {
  too_large_ = true;
  const char* const which = parser_.type == HTTP_REQUEST ? "request" : "response";
  return refuse(ErrorCode::kTooLarge,
                fmt::format("{} body over {} ({}): {}", which, limits_.body_limit_name,
                            limits_.max_body_bytes, what));
}

int HttpParser::onMessageBegin(llhttp_t* p) noexcept {
  self(p).started_ = true;
  return HPE_OK;
}

int HttpParser::onUrl(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  me.header_bytes_ += len;
  if (me.header_bytes_ > me.limits_.max_header_bytes) {
    return me.refuse(ErrorCode::kProtocol, "HTTP parse error: request line too long");
  }
  me.message_.target.append(at, len);
  return HPE_OK;
}

int HttpParser::onHeaderField(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  me.header_bytes_ += len;
  if (me.header_bytes_ > me.limits_.max_header_bytes) {
    return me.refuse(ErrorCode::kProtocol, "HTTP parse error: headers too large");
  }
  me.field_.append(at, len);
  return HPE_OK;
}

int HttpParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  me.header_bytes_ += len;
  if (me.header_bytes_ > me.limits_.max_header_bytes) {
    return me.refuse(ErrorCode::kProtocol, "HTTP parse error: headers too large");
  }
  me.value_.append(at, len);
  return HPE_OK;
}

int HttpParser::onHeaderValueComplete(llhttp_t* p) noexcept {
  HttpParser& me = self(p);
  me.message_.headers.push_back(Header{std::move(me.field_), std::move(me.value_)});
  me.field_.clear();
  me.value_.clear();
  return HPE_OK;
}

int HttpParser::onHeadersComplete(llhttp_t* p) noexcept {
  HttpParser& me = self(p);
  if (isInterimResponse(p)) {
    me.interim_ = true;
    return 1;  // a 1xx has no content, whatever its headers say
  }
  // Refused here, before a byte of the body: nothing of a declared 1 TiB is read.
  const bool chunked = llhttp__after_headers_complete(p, nullptr, nullptr) == kChunkedBody;
  if (!chunked && (p->flags & F_CONTENT_LENGTH) != 0 &&
      p->content_length > me.limits_.max_body_bytes) {
    return me.refuseTooLarge(fmt::format("Content-Length {}", p->content_length));
  }
  me.message_.status = p->status_code;
  if (p->type == HTTP_REQUEST) {
    me.message_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  }
  if (!chunked && (p->flags & F_CONTENT_LENGTH) != 0) {
    me.message_.body.reserve(static_cast<std::size_t>(p->content_length));
  }
  return chunked ? HPE_PAUSED : HPE_OK;  // paused: the first chunk-size line is ours
}

int HttpParser::onBody(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  const std::size_t size = me.body_bytes_ + len;
  if (size > me.limits_.max_body_bytes) {
    const bool chunked = (p->flags & F_CHUNKED) != 0;
    return me.refuseTooLarge(
        fmt::format("{} body passed {} bytes", chunked ? "chunked" : "read-until-close", size));
  }
  me.body_bytes_ = size;
  me.message_.body.append(at, len);
  return HPE_OK;
}

int HttpParser::onChunkComplete(llhttp_t* p) noexcept {
  // After the last chunk come trailers and the end, not another size line.
  return (p->flags & F_TRAILING) != 0 ? HPE_OK : HPE_PAUSED;
}

int HttpParser::onMessageComplete(llhttp_t* p) noexcept {
  HttpParser& me = self(p);
  if (me.interim_) {
    // Not the answer: drop it and go on parsing the final response, which
    // may already be in this buffer or arrive in a later read.
    me.interim_ = false;
    me.message_ = {};
    me.header_bytes_ = 0;
    me.body_bytes_ = 0;
    return HPE_OK;
  }
  me.message_.keep_alive = llhttp_should_keep_alive(p) != 0;
  me.complete_ = true;
  return HPE_PAUSED;  // leave the next message's bytes for the next take()
}

}  // namespace dropd::net
