#include "dropd/pipeline/document_sniff.hpp"

#include <array>
#include <cctype>

namespace dropd::pipeline {
namespace {

using namespace std::string_view_literals;

// Header names an e-mail message (a saved .eml, an mbox entry) starts with.
constexpr std::array kFirstHeaders{"from"sv,
                                   "to"sv,
                                   "subject"sv,
                                   "date"sv,
                                   "received"sv,
                                   "return-path"sv,
                                   "message-id"sv,
                                   "mime-version"sv,
                                   "delivered-to"sv,
                                   "reply-to"sv,
                                   "sender"sv,
                                   "cc"sv,
                                   "x-mailer"sv,
                                   "dkim-signature"sv,
                                   "authentication-results"sv};

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) {
      return false;
    }
  }
  return true;
}

std::string_view skipBlanks(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  return text;
}

bool isHtml(std::string_view text) {
  for (int guard = 0; guard < 16; ++guard) {  // leading comments and <?xml ...?>
    text = skipBlanks(text);
    if (startsWithNoCase(text, "<!doctype html") || startsWithNoCase(text, "<html")) {
      return true;
    }
    std::string_view close;
    if (text.starts_with("<!--")) {
      close = "-->";
    } else if (text.starts_with("<?")) {
      close = "?>";
    } else {
      return false;
    }
    const std::size_t end = text.find(close);
    if (end == std::string_view::npos) {
      return false;
    }
    text.remove_prefix(end + close.size());
  }
  return false;
}

// The header name of `line` ("Subject: x" -> "Subject"), or empty.
std::string_view headerName(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) {
    return {};
  }
  for (std::size_t i = 0; i < colon; ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c <= 32 || c >= 127) {
      return {};
    }
  }
  return line.substr(0, colon);
}

bool isEmail(std::string_view text) {
  if (text.starts_with("From ")) {  // an mbox entry's separator line
    text.remove_prefix(std::min(text.size(), text.find('\n') + 1));
  }
  int headers = 0;
  while (!text.empty() && headers < 2) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return false;  // a header line cut by kSniffBytes proves nothing
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (headers > 0 && (line.starts_with(' ') || line.starts_with('\t'))) {
      continue;  // a folded header goes on
    }
    const std::string_view name = headerName(line);
    if (name.empty()) {
      return false;
    }
    if (headers == 0) {
      bool usual = false;
      for (const std::string_view h : kFirstHeaders) {
        usual = usual || (name.size() == h.size() && startsWithNoCase(name, h));
      }
      if (!usual) {
        return false;
      }
    }
    ++headers;
  }
  return headers >= 2;
}

}  // namespace

TextKind sniffText(std::string_view head) {
  head = head.substr(0, kSniffBytes);
  if (head.starts_with("\xEF\xBB\xBF")) {
    head.remove_prefix(3);
  }
  if (head.starts_with("%PDF-")) {
    return TextKind::kPdf;
  }
  if (isHtml(head)) {
    return TextKind::kHtml;
  }
  return isEmail(head) ? TextKind::kEmail : TextKind::kPlain;
}

std::string_view formatOf(TextKind kind) {
  switch (kind) {
    case TextKind::kHtml:
      return "html";
    case TextKind::kEmail:
      return "email";
    case TextKind::kPdf:
      return "pdf";
    case TextKind::kPlain:
      break;
  }
  return "text";
}

}  // namespace dropd::pipeline
