// E-mail (RFC 5322 / MIME) through GMime (formats.hpp).
//
// The text: the From, To, Date and Subject lines, then the body: of a
// multipart/alternative the text/plain part (else the HTML one, converted),
// of other multiparts every part in order. Each attachment is named on an
// "Attachment: NAME (TYPE)" line and, when its type is one we read,
// extracted below it. Messages and multiparts nest at most kMaxMimeDepth.
#include <gmime/gmime.h>

#include <memory>

#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/text_builder.hpp"

#include "html_text.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;

struct Unref {
  void operator()(void* object) const { g_object_unref(object); }
};
template <typename T>
using Ref = std::unique_ptr<T, Unref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GOwned = std::unique_ptr<char, GFree>;

std::string str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

std::string mimeTypeOf(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  return type == nullptr ? "text/plain"
                         : str(GOwned(g_mime_content_type_get_mime_type(type)).get());
}

struct MailWalk {
  const extract::Options& options;
  TextBuilder& out;
  int base_depth = 0;

  Status message(GMimeMessage* message, int depth);
  Status object(GMimeObject* object, int depth);
  Status multipart(GMimeMultipart* multipart, int depth);
  void part(GMimePart* part, int depth);
};

std::string addresses(InternetAddressList* list) {
  return list == nullptr ? ""
                         : str(GOwned(internet_address_list_to_string(list, nullptr, FALSE)).get());
}

void headerLine(TextBuilder& out, std::string_view name, const std::string& value) {
  if (!value.empty()) {
    out.append(std::string(name) + ": " + value);
    out.endLine();
  }
}

Status MailWalk::message(GMimeMessage* message, int depth) {
  headerLine(out, "From", addresses(g_mime_message_get_from(message)));
  headerLine(out, "To", addresses(g_mime_message_get_to(message)));
  headerLine(out, "Date", str(g_mime_object_get_header(GMIME_OBJECT(message), "Date")));
  headerLine(out, "Subject", str(g_mime_message_get_subject(message)));
  GMimeObject* body = g_mime_message_get_mime_part(message);
  return body == nullptr ? Status{} : object(body, depth);
}

Status MailWalk::object(GMimeObject* object, int depth) {
  if (base_depth + depth > kMaxMimeDepth) {
    return makeError(ErrorCode::kInvalid,
                     "MIME parts nested deeper than " + std::to_string(kMaxMimeDepth));
  }
  if (GMIME_IS_MULTIPART(object)) {
    return multipart(GMIME_MULTIPART(object), depth + 1);
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    return inner == nullptr ? Status{} : message(inner, depth + 1);
  }
  if (GMIME_IS_PART(object)) {
    part(GMIME_PART(object), depth);
  }
  return {};
}

Status MailWalk::multipart(GMimeMultipart* multipart, int depth) {
  const int count = g_mime_multipart_get_count(multipart);
  GMimeContentType* type = g_mime_object_get_content_type(GMIME_OBJECT(multipart));
  if (type != nullptr && g_mime_content_type_is_type(type, "multipart", "alternative")) {
    GMimeObject* best = nullptr;
    for (int i = 0; i < count; ++i) {
      GMimeObject* candidate = g_mime_multipart_get_part(multipart, i);
      const std::string mime = mimeTypeOf(candidate);
      if (best == nullptr || mime == "text/plain") {
        best = candidate;
      }
    }
    return best == nullptr ? Status{} : object(best, depth);
  }
  for (int i = 0; i < count; ++i) {
    if (auto read = object(g_mime_multipart_get_part(multipart, i), depth); !read) {
      return read;
    }
  }
  return {};
}

// The part's content, transfer encoding undone.
std::string decodedContent(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (wrapper == nullptr) {
    return {};
  }
  const Ref<GMimeStream> stream{g_mime_stream_mem_new()};
  g_mime_data_wrapper_write_to_stream(wrapper, stream.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
  return bytes == nullptr ? std::string()
                          : std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// Text in the part's charset, as UTF-8 (the plain text rules when the
// charset is missing or unknown).
std::string toUtf8(const std::string& content, GMimePart* part) {
  const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
  if (charset != nullptr && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
      g_ascii_strcasecmp(charset, "us-ascii") != 0) {
    gsize written = 0;
    const GOwned converted{g_convert(content.data(), static_cast<gssize>(content.size()), "UTF-8",
                                     charset, nullptr, &written, nullptr)};
    if (converted) {
      return std::string(converted.get(), written);
    }
  }
  const auto* data = reinterpret_cast<const unsigned char*>(content.data());
  return decodeText(Bytes{data, content.size()}).text;
}

void MailWalk::part(GMimePart* part, int depth) {
  const std::string mime = mimeTypeOf(GMIME_OBJECT(part));
  const std::string content = decodedContent(part);
  const Bytes bytes{reinterpret_cast<const unsigned char*>(content.data()), content.size()};
  const bool attachment =
      g_mime_part_is_attachment(part) || g_mime_part_get_filename(part) != nullptr;
  if (!attachment && (mime == "text/plain" || mime == "text/html")) {
    const std::string text = toUtf8(content, part);
    if (mime == "text/plain") {
      out.append(text);
      out.endLine();
    } else {
      std::string title;
      (void)htmlToText({reinterpret_cast<const unsigned char*>(text.data()), text.size()}, out,
                       title);
    }
    return;
  }
  const std::string name = str(g_mime_part_get_filename(part));
  out.append("Attachment: " + (name.empty() ? std::string("(unnamed)") : name) + " (" + mime + ")");
  out.endLine();
  const Outcome inner = extractNested(bytes, options, base_depth + depth + 1);
  if (const auto* doc = std::get_if<Document>(&inner)) {
    out.append(doc->text);
    out.endLine();
  }
}

void startGMime() {
  static const bool once = [] {
    g_mime_init();
    return true;
  }();
  (void)once;
}

}  // namespace

Outcome extractMail(Bytes bytes, const extract::Options& options, int depth) {
  startGMime();
  const Ref<GMimeStream> stream{
      g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(bytes.data()), bytes.size())};
  const Ref<GMimeParser> parser{g_mime_parser_new_with_stream(stream.get())};
  const Ref<GMimeMessage> message{g_mime_parser_construct_message(parser.get(), nullptr)};
  if (!message) {
    return Failure{FailureKind::kExtract, "", "not a MIME message"};
  }
  TextBuilder out(textLimitBytes(options));
  MailWalk walk{options, out, depth};
  if (auto read = walk.message(message.get(), 0); !read) {
    return Failure{FailureKind::kExtract, "", read.error().message()};
  }
  Document doc;
  doc.method = "email";
  doc.title = str(g_mime_message_get_subject(message.get()));
  doc.author = addresses(g_mime_message_get_from(message.get()));
  doc.text = out.finish();
  doc.truncated = out.truncated();
  return doc;
}

}  // namespace dropd::extractor
