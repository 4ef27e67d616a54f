#pragma once

// A streaming walk over one XML document (an entry of a DOCX, ODT, ...)
// with libxml2's xmlTextReader: no tree is built, no network is used, no
// entity is substituted, and a document with a DTD is refused (office
// formats have none; a DTD there is an entity attack such as billion
// laughs). Blocking; any thread.

#include <functional>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"

namespace dropd::extractor {

// What the walk reports. Names are local names (no prefix). `attribute`
// reads an attribute of the element being started, by qualified name
// ("w:val", "text:c"); empty when absent.
struct XmlEvents {
  std::function<void(std::string_view name,
                     const std::function<std::string(const char*)>& attribute)>
      start;
  std::function<void(std::string_view name)> end;   // also for empty elements
  std::function<void(std::string_view text)> text;  // text, CDATA, significant white space
  std::function<bool()> stop;  // when set and true after a node, the walk ends there
};

// kInvalid when the XML is malformed or has a DTD; `what` names the entry.
[[nodiscard]] Status walkXml(std::string_view xml, const std::string& what,
                             const XmlEvents& events);

// The same over a stream: `read` fills up to n bytes and returns how many
// (0 at the end, < 0 on error), so a large entry is never held whole.
[[nodiscard]] Status walkXmlStream(const std::function<long(char*, std::size_t)>& read,
                                   const std::string& what, const XmlEvents& events);

}  // namespace dropd::extractor
