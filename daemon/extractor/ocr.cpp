// Tesseract over one image (ocr.hpp).
#include "ocr.hpp"

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>

#include <algorithm>
#include <memory>

namespace dropd::extractor {
namespace {

constexpr std::size_t kMaxLanguages = 8;

// "eng", "deu", "chi_sim": letters and underscores only, so a code can never
// name a path outside tessdata.
bool validLanguage(const std::string& code) {
  return !code.empty() && code.size() <= 32 && std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  });
}

Result<std::string> languageList(const std::vector<std::string>& languages) {
  if (languages.empty() || languages.size() > kMaxLanguages) {
    return makeError(ErrorCode::kInvalid, "OCR needs 1 to 8 languages");
  }
  std::string joined;
  for (const std::string& code : languages) {
    if (!validLanguage(code)) {
      return makeError(ErrorCode::kInvalid, "OCR language code " + code + " is malformed");
    }
    joined += (joined.empty() ? "" : "+") + code;
  }
  return joined;
}

struct ApiEnd {
  void operator()(tesseract::TessBaseAPI* api) const {
    api->End();
    delete api;  // NOLINT: Tesseract's own object, created below with new
  }
};
using Api = std::unique_ptr<tesseract::TessBaseAPI, ApiEnd>;

Result<Api> startTesseract(const std::vector<std::string>& languages) {
  const auto joined = languageList(languages);
  if (!joined) {
    return tl::unexpected(joined.error());
  }
  Api api{new tesseract::TessBaseAPI()};  // NOLINT: see ApiEnd
  api->SetVariable("debug_file", "/dev/null");
  if (api->Init(nullptr, joined->c_str()) != 0) {
    return makeError(ErrorCode::kInvalid,
                     "OCR languages " + *joined + " not installed (tesseract-ocr-<lang>)");
  }
  return api;
}

Result<std::string> readText(tesseract::TessBaseAPI& api) {
  std::unique_ptr<char[]> text{api.GetUTF8Text()};
  if (!text) {
    return makeError(ErrorCode::kSystem, "tesseract: recognition failed");
  }
  return std::string(text.get());
}

}  // namespace

Result<std::string> recognize(const RawImage& image, const std::vector<std::string>& languages) {
  auto api = startTesseract(languages);
  if (!api) {
    return tl::unexpected(api.error());
  }
  (*api)->SetImage(image.data, image.width, image.height, image.bytes_per_pixel,
                   image.bytes_per_line);
  if (image.dpi > 0) {
    (*api)->SetSourceResolution(image.dpi);
  }
  return readText(**api);
}

Result<std::string> recognize(Pix* pix, const std::vector<std::string>& languages) {
  auto api = startTesseract(languages);
  if (!api) {
    return tl::unexpected(api.error());
  }
  (*api)->SetImage(pix);
  if (pixGetXRes(pix) < 70) {
    (*api)->SetSourceResolution(300);  // no or silly resolution in the file: assume a scan
  }
  return readText(**api);
}

}  // namespace dropd::extractor
