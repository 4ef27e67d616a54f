// PNG, JPEG and TIFF through Tesseract, the size checked before a pixel is
// decoded (formats.hpp).
#include <leptonica/allheaders.h>

#include <memory>

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
  const std::unique_ptr<Pix, PixDestroy> pix{pixReadMem(bytes.data(), bytes.size())};
  if (!pix) {
    return Failure{FailureKind::kExtract, "", "the image does not decode (damaged?)"};
  }
  auto text = recognize(pix.get(), options.ocr_languages);
  if (!text) {
    return Failure{FailureKind::kExtract, "", text.error().message()};
  }
  TextBuilder builder(textLimitBytes(options));
  builder.append(*text);
  Document doc;
  doc.method = "image";
  doc.text = builder.finish();
  doc.pages = 1;
  doc.ocr = true;
  doc.truncated = builder.truncated();
  return doc;
}

}  // namespace dropd::extractor
