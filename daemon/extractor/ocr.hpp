#pragma once

// Tesseract over one image in memory: the OCR step of images and of PDF
// pages without a text layer. Blocking and slow (docs/extract.md has the
// figures); one call per thread at a time.

#include <string>
#include <vector>

#include "dropd/base/error.hpp"

struct Pix;

namespace dropd::extractor {

// Pixels as Tesseract takes them: 8-bit gray or 24/32-bit colour rows.
struct RawImage {
  const unsigned char* data = nullptr;
  int width = 0;
  int height = 0;
  int bytes_per_pixel = 1;
  int bytes_per_line = 0;
  int dpi = 0;  // 0: unknown
};

// The recognised text. kInvalid when a language code is malformed or not
// installed (tesseract-ocr-<lang>), kSystem when Tesseract fails.
[[nodiscard]] Result<std::string> recognize(const RawImage& image,
                                            const std::vector<std::string>& languages);
[[nodiscard]] Result<std::string> recognize(Pix* pix, const std::vector<std::string>& languages);

}  // namespace dropd::extractor
