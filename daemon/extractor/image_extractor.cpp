// PNG, JPEG and TIFF through Tesseract, the size checked before a pixel is
// decoded (formats.hpp). A TIFF's pages are read one at a time, up to
// max_pages, a form feed between them as in PDFs.
#include <leptonica/allheaders.h>

#include <algorithm>
#include <memory>
#include <string_view>

#include "dropd/extractor/formats.hpp"
#include "dropd/extractor/text_builder.hpp"

#include "ocr.hpp"

namespace dropd::extractor {
namespace {

using extract::Document;
using extract::Failure;
using extract::FailureKind;

struct PixDestroy {
  void operator()(Pix* pix) const { pixDestroy(&pix); }
};

void quietLeptonica() {
  static const bool once = [] {
    setMsgSeverity(L_SEVERITY_NONE);  // it reports on stderr; the Failure says enough
    return true;
  }();
  (void)once;
}

bool isTiff(Bytes bytes) {
  const std::string_view head(reinterpret_cast<const char*>(bytes.data()),
                              std::min<std::size_t>(bytes.size(), 4));
  return head == std::string_view("II*\0", 4) || head == std::string_view("MM\0*", 4);
}

// The next page: the only one of a PNG or JPEG, a TIFF's page at `offset`
// (which Leptonica moves to the next page's, or to 0 after the last).
std::unique_ptr<Pix, PixDestroy> nextPage(Bytes bytes, bool tiff, std::size_t& offset) {
  if (!tiff) {
    offset = 0;
    return std::unique_ptr<Pix, PixDestroy>{pixReadMem(bytes.data(), bytes.size())};
  }
  return std::unique_ptr<Pix, PixDestroy>{
      pixReadMemFromMultipageTiff(bytes.data(), bytes.size(), &offset)};
}

// A later TIFF page is not size-checked from a header: the helper's
// memory limit bounds what decoding it may take.
Outcome recognizePages(Bytes bytes, const extract::Options& options) {
  const bool tiff = isTiff(bytes);
  TextBuilder builder(textLimitBytes(options));
  Document doc;
  std::size_t offset = 0;
  do {
    if (options.max_pages > 0 && doc.pages == options.max_pages) {
      doc.truncated = true;
      break;
    }
    const auto pix = nextPage(bytes, tiff, offset);
    if (!pix) {
      return Failure{FailureKind::kExtract, "",
                     "the image does not decode (damaged?): page " + std::to_string(doc.pages + 1)};
    }
    auto text = recognize(pix.get(), options.ocr_languages);
    if (!text) {
      return Failure{FailureKind::kExtract, "", text.error().message()};
    }
    if (doc.pages > 0) {
      builder.pageBreak();
    }
    builder.append(*text);
    ++doc.pages;
  } while (offset != 0 && !builder.full());
  doc.method = "image";
  doc.text = builder.finish();
  doc.ocr = true;
  doc.truncated = doc.truncated || builder.truncated() || (offset != 0 && builder.full());
  return doc;
}

}  // namespace

Result<ImageSize> readImageSize(Bytes bytes) {
  quietLeptonica();
  l_int32 format = 0;
  l_int32 width = 0;
  l_int32 height = 0;
  l_int32 bits = 0;
  l_int32 samples = 0;
  l_int32 colormap = 0;
  if (bytes.empty() ||
      pixReadHeaderMem(bytes.data(), bytes.size(), &format, &width, &height, &bits, &samples,
                       &colormap) != 0 ||
      width <= 0 || height <= 0) {
    return makeError(ErrorCode::kInvalid, "unreadable image header");
  }
  return ImageSize{static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height)};
}

Outcome extractImage(Bytes bytes, const extract::Options& options) {
  if (!options.ocr) {
    return Failure{FailureKind::kSkipped, "", "image; set extract.ocr"};
  }
  const auto size = readImageSize(bytes);
  if (!size) {
    return Failure{FailureKind::kExtract, "", size.error().context};
  }
  const std::uint64_t pixels = std::uint64_t{size->width} * size->height;
  if (size->width > kMaxImageSide || size->height > kMaxImageSide || pixels > kMaxImagePixels) {
    return Failure{FailureKind::kExtract, "",
                   "image of " + std::to_string(size->width) + "x" + std::to_string(size->height) +
                       " pixels is over the OCR limit of " +
                       std::to_string(kMaxImagePixels / 1'000'000) + " megapixels"};
  }
  return recognizePages(bytes, options);
}

}  // namespace dropd::extractor
