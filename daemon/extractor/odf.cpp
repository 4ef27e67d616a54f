// ODT, ODS and ODP: OpenDocument (zip_formats.hpp).
//
// content.xml holds the body: text:p and text:h are lines, text:list-item a
// "- " line, table rows lines of tab-separated cells; in ODS a table
// (sheet) and in ODP a draw:page is a page. meta.xml gives the metadata.
#include <algorithm>

#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/text_builder.hpp"

#include "xml_walk.hpp"
#include "zip_formats.hpp"
#include "zip_reader.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;
using Attribute = std::function<std::string(const char*)>;

constexpr std::size_t kMaxSpaces = 100;  // text:s c="N" beyond this is noise

struct OdfWalk {
  TextBuilder& out;
  Document& doc;
  std::string_view page_element;  // "table" (ODS), "page" (ODP), "" (ODT)
  std::uint32_t max_pages = 0;
  int in_paragraph = 0;
  bool stopped = false;  // past max_pages

  void start(std::string_view name, const Attribute& attribute) {
    if (stopped) {
      return;
    }
    if (name == "p" || name == "h") {
      ++in_paragraph;
    } else if (name == "list-item") {
      out.listItem();
    } else if (name == "table-cell" || name == "covered-table-cell") {
      out.startCell();
    } else if (name == "s") {
      const std::string count = attribute("text:c");
      const std::size_t n = count.empty() ? 1 : std::strtoull(count.c_str(), nullptr, 10);
      out.append(std::string(std::min(n, kMaxSpaces), ' '));
    } else if (name == "tab") {
      out.append(" ");
    } else if (name == page_element) {
      if (max_pages > 0 && doc.pages >= max_pages) {
        stopped = true;
        doc.truncated = true;
      } else if (doc.pages++ > 0) {
        out.pageBreak();
      }
    }
  }

  void end(std::string_view name) {
    if (stopped) {
      return;
    }
    if (name == "p" || name == "h") {
      in_paragraph = std::max(0, in_paragraph - 1);
      out.endLine();
    } else if (name == "line-break") {
      out.endLine();
    } else if (name == "table-cell" || name == "covered-table-cell") {
      out.endCell();
    } else if (name == "table-row") {
      out.endRow();
    }
  }

  void text(std::string_view text) {
    if (!stopped && in_paragraph > 0) {
      out.append(text);
    }
  }
};

}  // namespace

Outcome readOdf(std::string_view format, Bytes bytes, const extract::Options& options) {
  const auto zip = readZip(
      bytes, [](std::string_view name) { return name == "content.xml" || name == "meta.xml"; });
  if (!zip) {
    return Failure{FailureKind::kExtract, "", zip.error().message()};
  }
  const auto content = zip->entries.find("content.xml");
  if (content == zip->entries.end()) {
    return Failure{FailureKind::kExtract, "", "OpenDocument without content.xml"};
  }
  Document doc;
  doc.method = std::string(format);
  if (const auto meta = zip->entries.find("meta.xml"); meta != zip->entries.end()) {
    readDublinCore(meta->second, doc);
  }
  TextBuilder out(textLimitBytes(options));
  OdfWalk walk{out, doc,
               format == "ods"   ? "table"
               : format == "odp" ? "page"
                                 : "",
               options.max_pages};
  XmlEvents events;
  events.start = [&](std::string_view name, const Attribute& a) { walk.start(name, a); };
  events.end = [&](std::string_view name) { walk.end(name); };
  events.text = [&](std::string_view text) { walk.text(text); };
  events.stop = [&] { return out.full() || walk.stopped; };
  if (auto read = walkXml(content->second, "content.xml", events); !read) {
    return Failure{FailureKind::kExtract, "", read.error().message()};
  }
  doc.text = out.finish();
  doc.truncated = doc.truncated || out.truncated();
  return doc;
}

}  // namespace dropd::extractor
