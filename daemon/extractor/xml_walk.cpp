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
using Reader = std::unique_ptr<xmlTextReader, ReaderFree>;

std::string_view view(const xmlChar* s) {
  return s == nullptr ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(s));
}

// No network, no entity substitution, no DTD loading, errors kept quiet
// (the walk's result says what went wrong).
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
constexpr std::size_t kPrologBytes = 64 << 10;

tl::unexpected<Error> dtdRefused(const std::string& what) {
  return makeError(ErrorCode::kInvalid,
                   what + ": XML with a DTD, which this format never has (entity attack?)");
}

// A DTD comes before the root element; refusing it on sight keeps libxml2
// from ever declaring an entity. (Markup only: in text it is "&lt;!DOCTYPE".)
bool declaresDtd(std::string_view prolog) {
  return prolog.find("<!DOCTYPE") != std::string_view::npos ||
         prolog.find("<!ENTITY") != std::string_view::npos;
}

Status walk(xmlTextReader* r, const std::string& what, const XmlEvents& events) {
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
        return dtdRefused(what);
      case XML_READER_TYPE_ELEMENT: {
        const bool empty = xmlTextReaderIsEmptyElement(r) == 1;
        const std::string name(view(xmlTextReaderConstLocalName(r)));  // the reader moves on
        if (events.start) {
          events.start(name, attribute);
        }
        if (empty && events.end) {
          events.end(name);
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
    if (events.stop && events.stop()) {
      return {};
    }
  }
  if (rc < 0) {
    return makeError(ErrorCode::kInvalid, what + ": malformed XML");
  }
  return {};
}

// xmlReaderForIO's source: the caller's read function, with the prolog
// checked for a DTD as it passes.
struct StreamSource {
  const std::function<long(char*, std::size_t)>& read;
  std::string prolog;
  bool refused = false;
  bool failed = false;
};

int readStream(void* context, char* buffer, int len) noexcept {
  auto* source = static_cast<StreamSource*>(context);
  const long n = source->read(buffer, static_cast<std::size_t>(len));
  if (n < 0) {
    source->failed = true;
    return -1;
  }
  if (source->prolog.size() < kPrologBytes) {
    source->prolog.append(buffer, static_cast<std::size_t>(n));
    if (declaresDtd(source->prolog)) {
      source->refused = true;
      return -1;
    }
  }
  return static_cast<int>(n);
}

}  // namespace

Status walkXml(std::string_view xml, const std::string& what, const XmlEvents& events) {
  if (xml.size() > static_cast<std::size_t>(INT_MAX)) {
    return makeError(ErrorCode::kTooLarge, what + ": XML larger than 2 GiB");
  }
  if (declaresDtd(xml.substr(0, kPrologBytes))) {
    return dtdRefused(what);
  }
  const Reader reader{xmlReaderForMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                                         kParseOptions)};
  if (!reader) {
    return makeError(ErrorCode::kInvalid, what + ": not XML");
  }
  return walk(reader.get(), what, events);
}

Status walkXmlStream(const std::function<long(char*, std::size_t)>& read, const std::string& what,
                     const XmlEvents& events) {
  StreamSource source{read, {}, false, false};
  const Reader reader{
      xmlReaderForIO(readStream, nullptr, &source, nullptr, nullptr, kParseOptions)};
  if (!reader) {
    return makeError(ErrorCode::kInvalid, what + ": not XML");
  }
  auto walked = walk(reader.get(), what, events);
  if (source.refused) {
    return dtdRefused(what);
  }
  if (source.failed) {
    return makeError(ErrorCode::kInvalid, what + ": the entry does not decompress");
  }
  return walked;
}

}  // namespace dropd::extractor
