// Streaming XML walk (xml_walk.hpp).
#include "xml_walk.hpp"

#include <libxml/xmlreader.h>

#include <climits>
#include <memory>

namespace dropd::extractor {
namespace {

struct ReaderFree {
  void operator()(xmlTextReader* reader) const { xmlFreeTextReader(reader); }
};

std::string_view view(const xmlChar* s) {
  return s == nullptr ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(s));
}

// No network, no entity substitution, no DTD loading, errors kept quiet
// (the walk's result says what went wrong).
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

}  // namespace

Status walkXml(std::string_view xml, const std::string& what, const XmlEvents& events) {
  if (xml.size() > static_cast<std::size_t>(INT_MAX)) {
    return makeError(ErrorCode::kTooLarge, what + ": XML larger than 2 GiB");
  }
  // A DTD comes before the root element; refusing it on sight keeps libxml2
  // from ever declaring an entity.
  // (Markup only: in text it would be escaped, "&lt;!DOCTYPE".)
  const std::string_view prolog = xml.substr(0, std::size_t{64} << 10);
  if (prolog.find("<!DOCTYPE") != std::string_view::npos ||
      prolog.find("<!ENTITY") != std::string_view::npos) {
    return makeError(ErrorCode::kInvalid,
                     what + ": XML with a DTD, which this format never has (entity attack?)");
  }
  const std::unique_ptr<xmlTextReader, ReaderFree> reader{xmlReaderForMemory(
      xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, kParseOptions)};
  if (!reader) {
    return makeError(ErrorCode::kInvalid, what + ": not XML");
  }
  xmlTextReader* r = reader.get();
  const auto attribute = [r](const char* name) {
    xmlChar* value = xmlTextReaderGetAttribute(r, reinterpret_cast<const xmlChar*>(name));
    std::string out(view(value));
    xmlFree(value);
    return out;
  };
  int rc = 0;
  while ((rc = xmlTextReaderRead(r)) == 1) {
    switch (xmlTextReaderNodeType(r)) {
      case XML_READER_TYPE_DOCUMENT_TYPE:
        return makeError(ErrorCode::kInvalid,
                         what + ": XML with a DTD, which this format never has (entity attack?)");
      case XML_READER_TYPE_ELEMENT: {
        const std::string_view name = view(xmlTextReaderConstLocalName(r));
        const bool empty = xmlTextReaderIsEmptyElement(r) == 1;
        const std::string copy(name);  // the reader's strings move on with it
        if (events.start) {
          events.start(copy, attribute);
        }
        if (empty && events.end) {
          events.end(copy);
        }
        break;
      }
      case XML_READER_TYPE_END_ELEMENT:
        if (events.end) {
          events.end(view(xmlTextReaderConstLocalName(r)));
        }
        break;
      case XML_READER_TYPE_TEXT:
      case XML_READER_TYPE_CDATA:
      case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
        if (events.text) {
          events.text(view(xmlTextReaderConstValue(r)));
        }
        break;
      default:
        break;  // comments, processing instructions, entity references: nothing to read
    }
  }
  if (rc < 0) {
    return makeError(ErrorCode::kInvalid, what + ": malformed XML");
  }
  return {};
}

}  // namespace dropd::extractor
