// Which zip-of-XML format a zip is, and its reader (formats.hpp).
#include <algorithm>

#include "dropd/extractor/formats.hpp"

#include "zip_formats.hpp"
#include "zip_reader.hpp"

namespace dropd::extractor {
namespace {

bool has(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

bool numberedNameLess(std::string_view a, std::string_view b) {
  const auto number = [](std::string_view s) {
    std::uint64_t n = 0;
    for (const char c : s) {
      if (c >= '0' && c <= '9' && n < (1ull << 40)) {
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
    }
    return n;
  };
  const auto na = number(a);
  const auto nb = number(b);
  return na != nb ? na < nb : a < b;
}

std::string zipDocumentFormat(Bytes bytes) {
  const auto zip = readZip(bytes, [](std::string_view name) { return name == "mimetype"; });
  if (!zip) {
    return {};
  }
  if (has(zip->names, "word/document.xml")) {
    return "docx";
  }
  if (has(zip->names, "xl/workbook.xml")) {
    return "xlsx";
  }
  if (has(zip->names, "ppt/presentation.xml")) {
    return "pptx";
  }
  const auto it = zip->entries.find("mimetype");
  const std::string_view mimetype = it == zip->entries.end() ? "" : trimmed(it->second);
  if (mimetype == "application/vnd.oasis.opendocument.text") {
    return "odt";
  }
  if (mimetype == "application/vnd.oasis.opendocument.spreadsheet") {
    return "ods";
  }
  if (mimetype == "application/vnd.oasis.opendocument.presentation") {
    return "odp";
  }
  if (mimetype == "application/epub+zip") {
    return "epub";
  }
  return {};
}

Outcome extractZipDocument(Bytes bytes, const extract::Options& options) {
  const std::string format = zipDocumentFormat(bytes);
  if (format == "docx" || format == "xlsx" || format == "pptx") {
    return readOoxml(format, bytes, options);
  }
  if (format == "odt" || format == "ods" || format == "odp") {
    return readOdf(format, bytes, options);
  }
  if (format == "epub") {
    return readEpub(bytes, options);
  }
  const auto zip = readZip(bytes, [](std::string_view) { return false; });
  if (!zip) {
    return extract::Failure{extract::FailureKind::kExtract, "", zip.error().message()};
  }
  return extract::Failure{extract::FailureKind::kSkipped, "",
                          "a zip archive that is no document we read"};
}

}  // namespace dropd::extractor
