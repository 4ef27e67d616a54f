// The type of a document from its content: libmagic, then a look inside
// zips and at mail headers where libmagic stops short (extractor.hpp).
#include <magic.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include "dropd/extractor/extractor.hpp"
#include "dropd/extractor/formats.hpp"

namespace dropd::extractor {
namespace {

struct MagicClose {
  void operator()(magic_set* cookie) const { magic_close(cookie); }
};
using MagicHandle = std::unique_ptr<magic_set, MagicClose>;

MagicHandle openMagic() {
  // No decompression (a gzip is a gzip, not what it holds) and no ELF/
  // CDF/tar deep looks: detection must stay cheap on hostile input.
  MagicHandle cookie{magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF |
                                MAGIC_NO_CHECK_TAR | MAGIC_ERROR)};
  if (cookie && magic_load(cookie.get(), nullptr) != 0) {
    cookie.reset();
  }
  return cookie;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Plain text that opens like an RFC 5322 message: libmagic only knows some
// first header fields (From, Received, Return-Path), and mail saved by
// programs often opens with another one.
bool looksLikeMail(Bytes bytes) {
  static constexpr std::array<std::string_view, 10> kFirstFields = {
      "mime-version:", "content-type:", "message-id:", "date:",        "subject:",
      "to:",           "from:",         "received:",   "return-path:", "delivered-to:"};
  std::string head(reinterpret_cast<const char*>(bytes.data()),
                   std::min<std::size_t>(bytes.size(), 64));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool field = std::any_of(kFirstFields.begin(), kFirstFields.end(),
                                 [&](std::string_view f) { return startsWith(head, f); });
  if (!field) {
    return false;
  }
  // And a blank line ends the header block somewhere in the first 64 KiB.
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                              std::min<std::size_t>(bytes.size(), 64 << 10));
  return text.find("\n\n") != std::string_view::npos ||
         text.find("\r\n\r\n") != std::string_view::npos;
}

}  // namespace

std::string detectMime(Bytes bytes) {
  thread_local const MagicHandle cookie = openMagic();
  if (bytes.empty()) {
    return "application/x-empty";
  }
  const char* mime = cookie ? magic_buffer(cookie.get(), bytes.data(), bytes.size()) : nullptr;
  return mime != nullptr ? std::string(mime) : std::string("application/octet-stream");
}

std::string formatOf(std::string_view mime, Bytes bytes) {
  if (mime == "application/pdf") {
    return "pdf";
  }
  if (mime == "text/html" || mime == "application/xhtml+xml") {
    return "html";
  }
  if (mime == "message/rfc822" || mime == "message/news") {
    return "email";
  }
  if (mime == "image/png" || mime == "image/jpeg" || mime == "image/tiff") {
    return "image";
  }
  if (mime == "application/zip" || mime == "application/epub+zip" ||
      startsWith(mime, "application/vnd.openxmlformats-officedocument.") ||
      startsWith(mime, "application/vnd.oasis.opendocument.")) {
    std::string format = zipDocumentFormat(bytes);
    // A damaged document libmagic named still goes to its reader, which
    // says what is wrong with it; a plain zip that is no document does not.
    return format.empty() && mime != "application/zip" ? "zip" : format;
  }
  if (startsWith(mime, "text/") || mime == "application/x-empty" || mime == "application/json" ||
      mime == "application/javascript") {
    return looksLikeMail(bytes) ? "email" : "text";
  }
  return {};
}

}  // namespace dropd::extractor
