// The dropd <-> dropd-extract frames: length-prefixed JSON (protocol.hpp).
#include "dropd/extract/protocol.hpp"

#include <nlohmann/json.hpp>

namespace dropd::extract {
namespace {

using nlohmann::json;

std::string frame(const json& message) {
  // Replace, never throw: a path or text with invalid UTF-8 must not abort
  // the helper (paths travel as hex; text is valid UTF-8 by contract).
  const std::string payload = message.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  out += payload;
  return out;
}

std::string toHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

std::optional<std::string> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hexValue(hex[i]);
    const int lo = hexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

tl::unexpected<Error> bad(std::string_view what) {
  return makeError(ErrorCode::kProtocol, "extract protocol: " + std::string(what));
}

// The value of `key` if it has the JSON type `T` wants, else nullopt.
template <typename T>
std::optional<T> field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return std::nullopt;
  }
  if constexpr (std::is_same_v<T, bool>) {
    return it->is_boolean() ? std::optional<T>(it->get<bool>()) : std::nullopt;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? std::optional<T>(it->get<std::string>()) : std::nullopt;
  } else {
    return it->is_number_unsigned() ? std::optional<T>(it->get<T>()) : std::nullopt;
  }
}

std::optional<std::vector<std::string>> stringList(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const json& item : *it) {
    if (!item.is_string()) {
      return std::nullopt;
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// A Reply's fields but its id: also `dropd-extract --json`'s line, with the
// path instead of the id.
json answerFields(const std::variant<Document, Failure>& answer) {
  if (const auto* doc = std::get_if<Document>(&answer)) {
    return {{"ok", true},
            {"mime", doc->mime},
            {"method", doc->method},
            {"text", doc->text},
            {"title", doc->title},
            {"author", doc->author},
            {"language", doc->language},
            {"pages", doc->pages},
            {"chars", doc->chars},
            {"truncated", doc->truncated},
            {"ocr", doc->ocr}};
  }
  const auto& failure = std::get<Failure>(answer);
  return {{"ok", false},
          {"kind", toString(failure.kind)},
          {"mime", failure.mime},
          {"reason", failure.reason}};
}

}  // namespace

std::string_view toString(FailureKind kind) {
  return kind == FailureKind::kSkipped ? "skipped" : "extract";
}

std::string encodeRequest(const Request& request) {
  const Options& o = request.options;
  return frame({{"id", request.id},
                {"path_hex", toHex(request.path)},
                {"max_pages", o.max_pages},
                {"max_chars", o.max_chars},
                {"ocr", o.ocr},
                {"ocr_languages", o.ocr_languages},
                {"formats", o.formats}});
}

std::string encodeReply(const Reply& reply) {
  json message = answerFields(reply.answer);
  message["id"] = reply.id;
  return frame(message);
}

std::string answerLine(const std::string& path, const std::variant<Document, Failure>& answer) {
  json line = answerFields(answer);
  line["path"] = path;
  return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Request> decodeRequest(std::string_view payload) {
  const json message = json::parse(payload, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    return bad("a request is not a JSON object");
  }
  Request request;
  const auto id = field<std::uint64_t>(message, "id");
  const auto path_hex = field<std::string>(message, "path_hex");
  const auto path = path_hex ? fromHex(*path_hex) : std::nullopt;
  const auto max_pages = field<std::uint32_t>(message, "max_pages");
  const auto max_chars = field<std::uint64_t>(message, "max_chars");
  const auto ocr = field<bool>(message, "ocr");
  auto languages = stringList(message, "ocr_languages");
  auto formats = stringList(message, "formats");
  if (!id || !path || !max_pages || !max_chars || !ocr || !languages || !formats) {
    return bad("a request lacks a field or has one of the wrong type");
  }
  request.id = *id;
  request.path = std::move(*path);
  request.options = {*max_pages, *max_chars, *ocr, std::move(*languages), std::move(*formats)};
  return request;
}

Result<Reply> decodeReply(std::string_view payload) {
  const json message = json::parse(payload, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    return bad("a reply is not a JSON object");
  }
  const auto id = field<std::uint64_t>(message, "id");
  const auto ok = field<bool>(message, "ok");
  auto mime = field<std::string>(message, "mime");
  if (!id || !ok || !mime) {
    return bad("a reply lacks id, ok or mime");
  }
  if (!*ok) {
    const auto kind = field<std::string>(message, "kind");
    auto reason = field<std::string>(message, "reason");
    if (!kind || (*kind != "skipped" && *kind != "extract") || !reason) {
      return bad("a failure reply lacks its kind or reason");
    }
    return Reply{*id, Failure{*kind == "skipped" ? FailureKind::kSkipped : FailureKind::kExtract,
                              std::move(*mime), std::move(*reason)}};
  }
  Document doc;
  doc.mime = std::move(*mime);
  auto method = field<std::string>(message, "method");
  auto text = field<std::string>(message, "text");
  auto title = field<std::string>(message, "title");
  auto author = field<std::string>(message, "author");
  auto language = field<std::string>(message, "language");
  const auto pages = field<std::uint32_t>(message, "pages");
  const auto chars = field<std::uint64_t>(message, "chars");
  const auto truncated = field<bool>(message, "truncated");
  const auto ocr = field<bool>(message, "ocr");
  if (!method || !text || !title || !author || !language || !pages || !chars || !truncated ||
      !ocr) {
    return bad("a document reply lacks a field or has one of the wrong type");
  }
  doc.method = std::move(*method);
  doc.text = std::move(*text);
  doc.title = std::move(*title);
  doc.author = std::move(*author);
  doc.language = std::move(*language);
  doc.pages = *pages;
  doc.chars = *chars;
  doc.truncated = *truncated;
  doc.ocr = *ocr;
  return Reply{*id, std::move(doc)};
}

void FrameReader::feed(std::string_view bytes) {
  if (broken_) {
    return;
  }
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<std::string> FrameReader::next() {
  if (broken_ || pendingBytes() < kFrameHeaderBytes) {
    return std::nullopt;
  }
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < kFrameHeaderBytes; ++i) {
    n = (n << 8) | static_cast<unsigned char>(buffer_[start_ + i]);
  }
  if (n > kMaxFrameBytes) {
    broken_ = true;
    return std::nullopt;
  }
  if (pendingBytes() < kFrameHeaderBytes + n) {
    return std::nullopt;
  }
  std::string payload = buffer_.substr(start_ + kFrameHeaderBytes, n);
  start_ += kFrameHeaderBytes + n;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > buffer_.size() / 2) {
    buffer_.erase(0, start_);  // keep the held bytes bounded by one frame
    start_ = 0;
  }
  return payload;
}

}  // namespace dropd::extract
