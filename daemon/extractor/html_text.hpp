#pragma once

// HTML to lines of text with libxml2's HTML parser (no network, no
// entities but HTML's own): script, style, nav, head and the like are
// dropped; headings, paragraphs and list items ("- ") are lines, table rows
// lines of tab-separated cells, links keep their text. Used for web pages,
// the HTML part of a mail and the chapters of an EPUB. Blocking; any thread.

#include <string>

#include "dropd/base/error.hpp"
#include "dropd/extractor/extractor.hpp"
#include "dropd/extractor/text_builder.hpp"

namespace dropd::extractor {

// Appends the page's text to `out`; `title` gets its <title>. kInvalid when
// libxml2 cannot make a document of the bytes at all.
[[nodiscard]] Status htmlToText(Bytes bytes, TextBuilder& out, std::string& title);

}  // namespace dropd::extractor
