#pragma once

// Text out of a document: what dropd-extract runs for each Request
// (docs/extract.md). The type comes from the content (libmagic), never from
// the name; one extractor per format turns it into UTF-8 text and a little
// metadata; then the pipeline's limits apply (formats, max_pages, max_chars).
//
// Blocking and CPU-heavy: meant for the dropd-extract process, one call at a
// time per thread (each thread keeps its own libmagic handle). A hostile or
// broken file gives a Failure with a one-line reason, never an exception;
// only running out of memory (std::bad_alloc) escapes, and the helper turns
// that into a Failure too.

#include <span>
#include <string>
#include <variant>

#include "dropd/extract/protocol.hpp"

namespace dropd::extractor {

using Outcome = std::variant<extract::Document, extract::Failure>;
using Bytes = std::span<const unsigned char>;

// Reads the file (mapped, not copied) and extracts it. A file that cannot be
// opened or read is a kExtract Failure naming the call.
[[nodiscard]] Outcome extractFile(const std::string& path, const extract::Options& options);

// The same from bytes in memory.
[[nodiscard]] Outcome extractBytes(Bytes bytes, const extract::Options& options);

// The format (method name) libmagic's MIME type and the bytes stand for:
// "text", "pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub",
// "html", "email", "image"; "zip" for a zip libmagic named as an office
// document that does not open (its reader says why); empty when no
// extractor reads it.
[[nodiscard]] std::string formatOf(std::string_view mime, Bytes bytes);

// libmagic's MIME type of the bytes ("application/octet-stream" when it has
// no answer).
[[nodiscard]] std::string detectMime(Bytes bytes);

}  // namespace dropd::extractor
