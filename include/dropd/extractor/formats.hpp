#pragma once

// The extractors one by one, each from bytes in memory. extractBytes()
// (extractor.hpp) picks one by content; these are public for the tests and
// the fuzz targets. Each returns a Document with method, text and metadata
// set (mime, chars and the max_chars cut are extractBytes' job), or a
// Failure with a reason. The text they return may still hold invalid UTF-8
// (extractBytes repairs it). Blocking; any thread, one call per thread at a
// time.

#include <cstddef>
#include <cstdint>
#include <string>

#include "dropd/extractor/extractor.hpp"

namespace dropd::extractor {

// Hard limits, whatever the pipeline asks (docs/extract.md, "Limits").
inline constexpr std::uint64_t kMaxZipEntryBytes = 64ull << 20;   // uncompressed, one entry
inline constexpr std::uint64_t kMaxZipTotalBytes = 256ull << 20;  // uncompressed, all entries read
inline constexpr std::size_t kMaxZipEntries = 20000;
// A spreadsheet's sheets are streamed, never held: only CPU time (and the
// text cap, which ends the read) bounds them, and this.
inline constexpr std::uint64_t kMaxZipStreamedEntryBytes = 4ull << 30;
inline constexpr std::uint64_t kMaxImagePixels = 60'000'000;  // e.g. 7000 x 8500
inline constexpr std::uint32_t kMaxImageSide = 20'000;
inline constexpr int kMaxMimeDepth = 10;                 // message/multipart nesting
inline constexpr std::size_t kMaxTextBytes = 64u << 20;  // text kept before max_chars applies

// The bytes of text worth collecting for these options: enough for
// max_chars code points (4 bytes each, and room for trimmed white space),
// never more than kMaxTextBytes. An extractor stops reading once it has them.
[[nodiscard]] inline std::size_t textLimitBytes(const extract::Options& options) {
  return options.max_chars > 0 && options.max_chars < kMaxTextBytes / 4
             ? static_cast<std::size_t>(options.max_chars) * 4 + 4096
             : kMaxTextBytes;
}

// extractBytes() for a document inside another (a mail's attachment):
// `depth` counts the containers around it, so nesting stays bounded.
[[nodiscard]] Outcome extractNested(Bytes bytes, const extract::Options& options, int depth);

// Plain text: the encoding detected and converted to UTF-8.
struct DecodedText {
  std::string text;      // UTF-8 (invalid sequences replaced)
  std::string encoding;  // "UTF-8", "UTF-16LE", "UTF-16BE" or "windows-1252"
};
[[nodiscard]] DecodedText decodeText(Bytes bytes);
[[nodiscard]] Outcome extractText(Bytes bytes, const extract::Options& options);

[[nodiscard]] Outcome extractPdf(Bytes bytes, const extract::Options& options);

// DOCX, XLSX, PPTX, ODT, ODS, ODP, EPUB: a zip of XML. zipDocumentFormat()
// looks inside a zip for which of them it is ("" if none).
[[nodiscard]] std::string zipDocumentFormat(Bytes bytes);
[[nodiscard]] Outcome extractZipDocument(Bytes bytes, const extract::Options& options);

[[nodiscard]] Outcome extractHtml(Bytes bytes, const extract::Options& options);

// A MIME message; `depth` counts the messages and multiparts around it.
[[nodiscard]] Outcome extractMail(Bytes bytes, const extract::Options& options, int depth = 0);

// PNG, JPEG, TIFF through Tesseract. Without options.ocr: kSkipped.
[[nodiscard]] Outcome extractImage(Bytes bytes, const extract::Options& options);

// Width and height from an image's header, before any pixel is decoded.
struct ImageSize {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};
[[nodiscard]] Result<ImageSize> readImageSize(Bytes bytes);

}  // namespace dropd::extractor
