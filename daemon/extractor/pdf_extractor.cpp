// PDF through poppler-cpp; OCR of the rendered pages when there is no text
// layer (formats.hpp).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/text_builder.hpp"

#include "ocr.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;

constexpr double kOcrDpi = 200.0;

std::string utf8(const poppler::ustring& text) {
  const poppler::byte_array bytes = text.to_utf8();
  return {bytes.begin(), bytes.end()};
}

// Poppler reports every syntax error on stderr; the Failure says enough.
void quiet(const std::string& /*message*/, void* /*closure*/) {}

// The PDF ends with %%EOF within its last KiB (PDF 1.7, 7.5.5, and the
// tolerance every reader allows). Poppler rebuilds a cut file's xref and
// reads what is left, which would send half a document as if it were all.
bool endsProperly(Bytes bytes) {
  const std::size_t tail = std::min<std::size_t>(bytes.size(), 1024);
  const std::string_view end(reinterpret_cast<const char*>(bytes.data() + bytes.size() - tail),
                             tail);
  return end.find("%%EOF") != std::string_view::npos;
}

bool blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c <= ' ' || c == 0xA0; });
}

// The page rendered to gray at kOcrDpi (less when that would pass the
// image pixel cap), then recognised.
Result<std::string> ocrPage(const poppler::page& page, const extract::Options& options) {
  const poppler::rectf box = page.page_rect();
  const double points = std::max(1.0, box.width()) * std::max(1.0, box.height());
  const double full = points * (kOcrDpi / 72.0) * (kOcrDpi / 72.0);
  const double scale = full > kMaxImagePixels ? std::sqrt(kMaxImagePixels / full) : 1.0;
  const double dpi = std::max(1.0, kOcrDpi * scale);
  poppler::page_renderer renderer;
  renderer.set_image_format(poppler::image::format_gray8);
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  const poppler::image image = renderer.render_page(&page, dpi, dpi);
  if (!image.is_valid()) {
    return makeError(ErrorCode::kInvalid, "poppler could not render a page for OCR");
  }
  return recognize(
      RawImage{reinterpret_cast<const unsigned char*>(image.const_data()), image.width(),
               image.height(), 1, image.bytes_per_row(), static_cast<int>(dpi)},
      options.ocr_languages);
}

Outcome readPages(poppler::document& pdf, const extract::Options& options, Document doc) {
  const int total = pdf.pages();
  const int wanted = options.max_pages > 0 && static_cast<std::uint32_t>(total) > options.max_pages
                         ? static_cast<int>(options.max_pages)
                         : total;
  std::vector<std::unique_ptr<poppler::page>> pages;
  TextBuilder text(textLimitBytes(options));
  for (int i = 0; i < wanted && !text.full(); ++i) {
    pages.emplace_back(pdf.create_page(i));
    if (i > 0) {
      text.pageBreak();
    }
    if (pages.back()) {
      text.append(
          utf8(pages.back()->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
    }
  }
  std::string body = text.finish();
  doc.pages = static_cast<std::uint32_t>(pages.size());
  doc.truncated = wanted < total || text.truncated();
  if (!blank(body) || pages.empty()) {
    doc.text = std::move(body);
    return doc;
  }
  if (!options.ocr) {
    return Failure{FailureKind::kSkipped, "", "PDF without a text layer; set extract.ocr"};
  }
  TextBuilder ocr_text(textLimitBytes(options));
  for (std::size_t i = 0; i < pages.size() && !ocr_text.full(); ++i) {
    if (i > 0) {
      ocr_text.pageBreak();
    }
    if (pages[i]) {
      auto page_text = ocrPage(*pages[i], options);
      if (!page_text) {
        return Failure{FailureKind::kExtract, "", page_text.error().message()};
      }
      ocr_text.append(*page_text);
    }
  }
  doc.text = ocr_text.finish();
  doc.ocr = true;
  return doc;
}

}  // namespace

Outcome extractPdf(Bytes bytes, const extract::Options& options) {
  poppler::set_debug_error_function(quiet, nullptr);
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Failure{FailureKind::kExtract, "", "PDF larger than 2 GiB"};
  }
  if (!endsProperly(bytes)) {
    return Failure{FailureKind::kExtract, "", "truncated PDF: no %%EOF at its end"};
  }
  std::unique_ptr<poppler::document> pdf{poppler::document::load_from_raw_data(
      reinterpret_cast<const char*>(bytes.data()), static_cast<int>(bytes.size()))};
  if (!pdf) {
    return Failure{FailureKind::kExtract, "", "poppler could not open the PDF (damaged?)"};
  }
  if (pdf->is_locked()) {
    return Failure{FailureKind::kExtract, "", "encrypted PDF (a password is needed)"};
  }
  Document doc;
  doc.method = "pdf";
  doc.title = utf8(pdf->get_title());
  doc.author = utf8(pdf->get_author());
  return readPages(*pdf, options, std::move(doc));
}

}  // namespace dropd::extractor
