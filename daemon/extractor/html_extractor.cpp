// HTML through libxml2's HTML parser (html_text.hpp, formats.hpp).
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <array>
#include <climits>
#include <memory>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/extractor/formats.hpp"

#include "html_text.hpp"

namespace dropd::extractor {
namespace {

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

// No network, quiet, and never a tree deeper than libxml2's default limit.
constexpr int kParseOptions = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                              HTML_PARSE_RECOVER | HTML_PARSE_NOIMPLIED;

bool oneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool dropped(std::string_view name) {
  return oneOf(name, {"script", "style", "nav", "head", "noscript", "template", "iframe", "object",
                      "embed", "svg", "canvas", "select", "button"});
}

bool block(std::string_view name) {
  return oneOf(name,
               {"p",          "div",    "h1",       "h2",    "h3",         "h4",      "h5",
                "h6",         "li",     "dt",       "dd",    "blockquote", "pre",     "section",
                "article",    "header", "footer",   "main",  "aside",      "address", "figure",
                "figcaption", "form",   "fieldset", "hr",    "br",         "ul",      "ol",
                "dl",         "table",  "caption",  "title", "body",       "html"});
}

std::string_view nameOf(const xmlNode* node) {
  return node->name == nullptr ? "" : reinterpret_cast<const char*>(node->name);
}

void enter(const xmlNode* node, TextBuilder& out, int& in_pre) {
  const std::string_view name = nameOf(node);
  if (name == "td" || name == "th") {
    out.startCell();
  } else if (block(name)) {
    out.endLine();
  }
  if (name == "li") {
    out.listItem();
  } else if (name == "pre") {
    ++in_pre;
  }
}

void leave(const xmlNode* node, TextBuilder& out, int& in_pre) {
  const std::string_view name = nameOf(node);
  if (name == "td" || name == "th") {
    out.endCell();
  } else if (name == "tr") {
    out.endRow();
  } else if (block(name)) {
    out.endLine();
  }
  if (name == "pre") {
    in_pre = std::max(0, in_pre - 1);
  }
}

std::string textOf(const xmlNode* node) {
  std::string out;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_TEXT_NODE && child->content != nullptr) {
      out += reinterpret_cast<const char*>(child->content);
    }
  }
  return out;
}

const xmlNode* findTitle(const xmlNode* node, int depth) {
  for (; node != nullptr && depth < 8; node = node->next) {
    if (node->type == XML_ELEMENT_NODE && nameOf(node) == "title") {
      return node;
    }
    if (const xmlNode* found = findTitle(node->children, depth + 1); found != nullptr) {
      return found;
    }
  }
  return nullptr;
}

// Walks the tree without recursion (a hostile page may nest deeply).
void walk(const xmlNode* root, TextBuilder& out) {
  int in_pre = 0;
  const xmlNode* node = root;
  while (node != nullptr && !out.full()) {
    const bool element = node->type == XML_ELEMENT_NODE;
    if (element && !dropped(nameOf(node))) {
      enter(node, out, in_pre);
      if (node->children != nullptr) {
        node = node->children;
        continue;
      }
      leave(node, out, in_pre);
    } else if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      const char* text = reinterpret_cast<const char*>(node->content);
      if (text != nullptr) {
        in_pre > 0 ? out.append(text) : out.appendCollapsed(text);
      }
    }
    while (node != nullptr && node->next == nullptr) {
      node = node->parent;
      if (node == nullptr || node == root->parent || node->type == XML_DOCUMENT_NODE ||
          node->type == XML_HTML_DOCUMENT_NODE) {
        return;
      }
      leave(node, out, in_pre);
    }
    if (node != nullptr) {
      node = node->next;
    }
  }
}

}  // namespace

Status htmlToText(Bytes bytes, TextBuilder& out, std::string& title) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    return makeError(ErrorCode::kTooLarge, "HTML larger than 2 GiB");
  }
  // Valid UTF-8 is read as UTF-8 whatever the page declares; anything else
  // is left to libxml2 (its <meta charset>, else ISO-8859-1).
  const bool utf8 = base::decodeUtf8(bytes.data(), bytes.size()).invalid_bytes == 0;
  const std::unique_ptr<xmlDoc, DocFree> doc{
      htmlReadMemory(reinterpret_cast<const char*>(bytes.data()), static_cast<int>(bytes.size()),
                     nullptr, utf8 ? "UTF-8" : nullptr, kParseOptions)};
  if (!doc) {
    return makeError(ErrorCode::kInvalid, "libxml2 made no HTML document of it");
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (const xmlNode* title_node = findTitle(root, 0); title_node != nullptr) {
    TextBuilder title_text(4096);
    title_text.appendCollapsed(textOf(title_node));
    title = title_text.finish();
    while (!title.empty() && title.back() == '\n') {
      title.pop_back();
    }
  }
  walk(root, out);
  return {};
}

Outcome extractHtml(Bytes bytes, const extract::Options& options) {
  TextBuilder out(textLimitBytes(options));
  extract::Document doc;
  doc.method = "html";
  if (auto read = htmlToText(bytes, out, doc.title); !read) {
    return extract::Failure{extract::FailureKind::kExtract, "", read.error().message()};
  }
  doc.text = out.finish();
  doc.truncated = out.truncated();
  return doc;
}

}  // namespace dropd::extractor
