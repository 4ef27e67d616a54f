// extractMail on any bytes: never crashes or hangs, and answers a Document of
// repairable text or a Failure with a reason (extract_common.hpp). OCR off.

#include <cstddef>
#include <cstdint>

#include "dropd/extractor/formats.hpp"

#include "extract_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const dropd::extract::Options options;
  dropd::fuzz::checkOutcome(
      dropd::extractor::extractMail(dropd::fuzz::bytesOf(data, size), options));
  return 0;
}
