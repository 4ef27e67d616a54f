#pragma once

// The zip-of-XML formats, one reader per family; zip_document.cpp picks one.
// Each reads the entries it needs from the zip in `bytes` (zip_reader.hpp's
// limits apply) and returns a Document or a Failure. Blocking; any thread.

#include <string>
#include <string_view>

#include "dropd/extractor/extractor.hpp"

namespace dropd::extractor {

// "docx", "xlsx", "pptx" (Office Open XML).
[[nodiscard]] Outcome readOoxml(std::string_view format, Bytes bytes,
                                const extract::Options& options);
// "odt", "ods", "odp" (OpenDocument).
[[nodiscard]] Outcome readOdf(std::string_view format, Bytes bytes,
                              const extract::Options& options);
[[nodiscard]] Outcome readEpub(Bytes bytes, const extract::Options& options);

// Fills title, author and language from the Dublin Core elements of a
// core.xml, meta.xml or OPF (the first of each wins); a bad one is ignored.
void readDublinCore(const std::string& xml, extract::Document& doc);

// Sorts "ppt/slides/slide10.xml" after "slide9.xml": by the number in the name.
[[nodiscard]] bool numberedNameLess(std::string_view a, std::string_view b);

}  // namespace dropd::extractor
