// Image headers on any bytes: readImageSize never crashes, and a size it
// reports is non-zero; an image small enough is decoded by Leptonica
// (not recognised: Tesseract is far too slow for thousands of inputs).
// extractImage without OCR is kSkipped without looking at the bytes.

#include <leptonica/allheaders.h>

#include <cstddef>
#include <cstdint>

#include "dropd/extractor/formats.hpp"

#include "extract_common.hpp"

using namespace dropd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::bytesOf(data, size);
  const auto image_size = extractor::readImageSize(bytes);
  if (image_size) {
    DROPD_FUZZ_CHECK(image_size->width > 0 && image_size->height > 0);
    if (std::uint64_t{image_size->width} * image_size->height <= 1'000'000) {
      Pix* pix = pixReadMem(data, size);
      pixDestroy(&pix);
    }
  }
  const extract::Options no_ocr;
  const auto outcome = extractor::extractImage(bytes, no_ocr);
  DROPD_FUZZ_CHECK(std::holds_alternative<extract::Failure>(outcome) &&
                   std::get<extract::Failure>(outcome).kind == extract::FailureKind::kSkipped);
  return 0;
}
