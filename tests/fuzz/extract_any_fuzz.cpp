// extractBytes on any bytes, with limits from the input: detection and
// dispatch never crash; a Document's text is valid UTF-8 with `chars` code
// points, within max_chars, and truncated when it was cut; a Failure has a
// reason; a format filter that leaves the format out gives kSkipped.

#include <cstddef>
#include <cstdint>

#include "dropd/extractor/extractor.hpp"

#include "extract_common.hpp"
#include "fuzz_input.hpp"

using namespace dropd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  extract::Options options;
  options.max_chars = input.takeByte() % 50;
  options.max_pages = input.takeByte() % 3;
  const bool filter = input.takeBool();
  if (filter) {
    options.formats = {"none-of-them"};
  }
  const std::string_view rest = input.takeRest();
  const extractor::Bytes bytes{reinterpret_cast<const unsigned char*>(rest.data()), rest.size()};
  const extractor::Outcome outcome = extractor::extractBytes(bytes, options);
  if (const auto* doc = std::get_if<extract::Document>(&outcome)) {
    DROPD_FUZZ_CHECK(!filter);
    DROPD_FUZZ_CHECK(fuzz::validUtf8(doc->text) && fuzz::validUtf8(doc->title));
    DROPD_FUZZ_CHECK(doc->chars == extractor::countCodePoints(doc->text));
    DROPD_FUZZ_CHECK(options.max_chars == 0 || doc->chars <= options.max_chars);
    DROPD_FUZZ_CHECK(!doc->mime.empty());
  } else {
    const auto& failure = std::get<extract::Failure>(outcome);
    DROPD_FUZZ_CHECK(!failure.reason.empty());
    DROPD_FUZZ_CHECK(!filter || failure.kind == extract::FailureKind::kSkipped);
  }
  return 0;
}
