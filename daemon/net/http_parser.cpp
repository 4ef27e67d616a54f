#include "dropd/net/http_parser.hpp"

namespace dropd::net {

namespace {

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
  const llhttp_errno_t rc = llhttp_execute(&parser_, data.data(), data.size());
  if (rc == HPE_OK) {
    return data.size();
  }
  if (rc == HPE_PAUSED && complete_) {
    return static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data());
  }
  return parseError();
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
  started_ = false;
  if (complete_) {
    complete_ = false;
    llhttp_resume(&parser_);  // we paused at the end of the message
  }
  return out;
}

tl::unexpected<Error> HttpParser::parseError() const {
  const char* reason = llhttp_get_error_reason(&parser_);
  return makeError(ErrorCode::kProtocol, std::string("HTTP parse error ") +
                                             llhttp_errno_name(llhttp_get_errno(&parser_)) + ": " +
                                             (reason != nullptr ? reason : "?"));
}

int HttpParser::refuse(const char* reason) noexcept {
  llhttp_set_error_reason(&parser_, reason);
  return HPE_USER;
}

int HttpParser::onMessageBegin(llhttp_t* p) noexcept {
  self(p).started_ = true;
  return HPE_OK;
}

int HttpParser::onUrl(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  me.header_bytes_ += len;
  if (me.header_bytes_ > me.limits_.max_header_bytes) {
    return me.refuse("request line too long");
  }
  me.message_.target.append(at, len);
  return HPE_OK;
}

int HttpParser::onHeaderField(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  me.header_bytes_ += len;
  if (me.header_bytes_ > me.limits_.max_header_bytes) {
    return me.refuse("headers too large");
  }
  me.field_.append(at, len);
  return HPE_OK;
}

int HttpParser::onHeaderValue(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  me.header_bytes_ += len;
  if (me.header_bytes_ > me.limits_.max_header_bytes) {
    return me.refuse("headers too large");
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
  if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > me.limits_.max_body_bytes) {
    me.too_large_ = true;
    return me.refuse("body larger than the limit");
  }
  me.message_.status = p->status_code;
  if (p->type == HTTP_REQUEST) {
    me.message_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  }
  if ((p->flags & F_CONTENT_LENGTH) != 0) {
    me.message_.body.reserve(static_cast<std::size_t>(p->content_length));
  }
  return HPE_OK;
}

int HttpParser::onBody(llhttp_t* p, const char* at, size_t len) noexcept {
  HttpParser& me = self(p);
  if (me.message_.body.size() + len > me.limits_.max_body_bytes) {
    me.too_large_ = true;
    return me.refuse("body larger than the limit");
  }
  me.message_.body.append(at, len);
  return HPE_OK;
}

int HttpParser::onMessageComplete(llhttp_t* p) noexcept {
  HttpParser& me = self(p);
  if (me.interim_) {
    // Not the answer: drop it and go on parsing the final response, which
    // may already be in this buffer or arrive in a later read.
    me.interim_ = false;
    me.message_ = {};
    me.header_bytes_ = 0;
    return HPE_OK;
  }
  me.message_.keep_alive = llhttp_should_keep_alive(p) != 0;
  me.complete_ = true;
  return HPE_PAUSED;  // leave the next message's bytes for the next take()
}

}  // namespace dropd::net
