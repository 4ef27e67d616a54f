// DOCX, PPTX and XLSX: Office Open XML (zip_formats.hpp).
//
// DOCX reads word/document.xml, PPTX ppt/slides/slideN.xml (a slide is a
// page), XLSX xl/worksheets/sheetN.xml with xl/sharedStrings.xml (a sheet
// is a page, a row one line of tab-separated cells); all take title, author
// and language from docProps/core.xml.
#include <algorithm>
#include <vector>

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

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// w:p / a:p paragraphs with their w:t / a:t runs, tables as rows.
XmlEvents paragraphEvents(TextBuilder& out, int& in_text) {
  XmlEvents events;
  events.start = [&](std::string_view name, const Attribute&) {
    if (name == "t") {
      ++in_text;
    } else if (name == "tc") {
      out.startCell();
    } else if (name == "numPr") {
      out.listItem();
    } else if (name == "tab") {
      out.append(" ");
    }
  };
  events.end = [&](std::string_view name) {
    if (name == "t") {
      in_text = std::max(0, in_text - 1);
    } else if (name == "p" || name == "br" || name == "cr") {
      out.endLine();
    } else if (name == "tc") {
      out.endCell();
    } else if (name == "tr") {
      out.endRow();
    }
  };
  events.text = [&](std::string_view text) {
    if (in_text > 0) {
      out.append(text);
    }
  };
  events.stop = [&out] { return out.full(); };
  return events;
}

// Column number of a cell reference such as "AB12" (A = 0); -1 if none.
int columnOf(std::string_view ref) {
  int column = 0;
  std::size_t letters = 0;
  for (; letters < ref.size() && letters < 3 && ref[letters] >= 'A' && ref[letters] <= 'Z';
       ++letters) {
    column = column * 26 + (ref[letters] - 'A' + 1);
  }
  return letters == 0 ? -1 : column - 1;
}

std::vector<std::string> sharedStrings(const std::string& xml) {
  std::vector<std::string> strings;
  int in_text = 0;
  bool phonetic = false;
  XmlEvents events;
  events.start = [&](std::string_view name, const Attribute&) {
    if (name == "si") {
      strings.emplace_back();
    } else if (name == "t") {
      ++in_text;
    } else if (name == "rPh") {
      phonetic = true;  // a reading aid, not the cell's text
    }
  };
  events.end = [&](std::string_view name) {
    if (name == "t") {
      in_text = std::max(0, in_text - 1);
    } else if (name == "rPh") {
      phonetic = false;
    }
  };
  events.text = [&](std::string_view text) {
    if (in_text > 0 && !phonetic && !strings.empty()) {
      strings.back().append(text);
    }
  };
  (void)walkXml(xml, "xl/sharedStrings.xml", events);
  return strings;
}

// A sheet streamed from the zip: a large spreadsheet is never held whole,
// and the read ends once the text is full.
Status readSheet(Bytes bytes, const std::string& name, const std::vector<std::string>& strings,
                 TextBuilder& out) {
  std::string type;
  std::string value;
  int column = 0;
  int in_value = 0;
  XmlEvents events;
  events.start = [&](std::string_view element, const Attribute& attribute) {
    if (element == "c") {
      type = attribute("t");
      value.clear();
      // Cells a sheet leaves out still take their column.
      for (const int at = columnOf(attribute("r")); column < at && column < 16384; ++column) {
        out.startCell();
        out.endCell();
      }
    } else if (element == "v" || element == "t") {
      ++in_value;
    }
  };
  events.end = [&](std::string_view element) {
    if (element == "v" || element == "t") {
      in_value = std::max(0, in_value - 1);
    } else if (element == "c") {
      out.startCell();
      if (type == "s") {
        const std::size_t index = std::strtoull(value.c_str(), nullptr, 10);
        out.append(index < strings.size() ? strings[index] : "");
      } else {
        out.append(value);
      }
      out.endCell();
      ++column;
    } else if (element == "row") {
      out.endRow();
      column = 0;
    }
  };
  events.text = [&](std::string_view text) {
    if (in_value > 0) {
      value.append(text);
    }
  };
  events.stop = [&out] { return out.full(); };
  return streamZipEntry(bytes, name,
                        [&](const ZipRead& read) { return walkXmlStream(read, name, events); });
}

// The numbered parts (slides, sheets) in order, the first max_pages of them.
std::vector<std::string> numberedParts(const ZipContents& zip, std::string_view prefix) {
  std::vector<std::string> parts;
  for (const std::string& name : zip.names) {
    if (startsWith(name, prefix) && name.ends_with(".xml") &&
        name.find('/', prefix.size()) == std::string::npos) {
      parts.push_back(name);
    }
  }
  std::sort(parts.begin(), parts.end(), numberedNameLess);
  return parts;
}

Status readParts(std::string_view format, Bytes bytes, const ZipContents& zip,
                 const extract::Options& options, TextBuilder& out, Document& doc) {
  if (format == "docx") {
    const auto it = zip.entries.find("word/document.xml");
    int in_text = 0;
    return it == zip.entries.end()
               ? makeError(ErrorCode::kInvalid, "DOCX without word/document.xml")
               : walkXml(it->second, it->first, paragraphEvents(out, in_text));
  }
  const bool slides = format == "pptx";
  std::vector<std::string> parts = numberedParts(zip, slides ? "ppt/slides/" : "xl/worksheets/");
  const auto strings_it = zip.entries.find("xl/sharedStrings.xml");
  const std::vector<std::string> strings = slides || strings_it == zip.entries.end()
                                               ? std::vector<std::string>{}
                                               : sharedStrings(strings_it->second);
  if (options.max_pages > 0 && parts.size() > options.max_pages) {
    parts.resize(options.max_pages);
    doc.truncated = true;
  }
  for (const std::string& name : parts) {
    if (doc.pages++ > 0) {
      out.pageBreak();
    }
    int in_text = 0;
    const auto part = zip.entries.find(name);
    auto read = !slides ? readSheet(bytes, name, strings, out)
                : part != zip.entries.end()
                    ? walkXml(part->second, name, paragraphEvents(out, in_text))
                    : Status{};
    if (!read) {
      return read;
    }
  }
  return {};
}

}  // namespace

void readDublinCore(const std::string& xml, Document& doc) {
  std::string* field = nullptr;
  XmlEvents events;
  events.start = [&](std::string_view name, const Attribute&) {
    field = name == "title"                                  ? &doc.title
            : name == "creator" || name == "initial-creator" ? &doc.author
            : name == "language"                             ? &doc.language
                                                             : nullptr;
    if (field != nullptr && !field->empty()) {
      field = nullptr;  // the first one wins
    }
  };
  events.end = [&](std::string_view) { field = nullptr; };
  events.text = [&](std::string_view text) {
    if (field != nullptr) {
      field->append(text);
    }
  };
  (void)walkXml(xml, "metadata", events);  // metadata is a bonus: a bad one is ignored
}

Outcome readOoxml(std::string_view format, Bytes bytes, const extract::Options& options) {
  const auto zip = readZip(bytes, [format](std::string_view name) {
    return name == "docProps/core.xml" || (format == "docx" && name == "word/document.xml") ||
           (format == "pptx" && startsWith(name, "ppt/slides/slide") && name.ends_with(".xml")) ||
           (format == "xlsx" && name == "xl/sharedStrings.xml");
  });
  if (!zip) {
    return Failure{FailureKind::kExtract, "", zip.error().message()};
  }
  Document doc;
  doc.method = std::string(format);
  if (const auto core = zip->entries.find("docProps/core.xml"); core != zip->entries.end()) {
    readDublinCore(core->second, doc);
  }
  TextBuilder out(textLimitBytes(options));
  if (auto read = readParts(format, bytes, *zip, options, out, doc); !read) {
    return Failure{FailureKind::kExtract, "", read.error().message()};
  }
  doc.text = out.finish();
  doc.truncated = doc.truncated || out.truncated();
  return doc;
}

}  // namespace dropd::extractor
