#pragma once

// What every extractor's fuzz target checks of its answer: a Document's
// text, once extractBytes' repair has run, is valid UTF-8 whose code points
// it counts; a Failure has a reason.

#include <variant>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/extractor/extractor.hpp"
#include "dropd/extractor/utf8_text.hpp"

#include "fuzz_check.hpp"

namespace dropd::fuzz {

inline bool validUtf8(std::string_view text) {
  return base::decodeUtf8(reinterpret_cast<const unsigned char*>(text.data()), text.size())
             .invalid_bytes == 0;
}

inline void checkOutcome(const extractor::Outcome& outcome) {
  if (const auto* doc = std::get_if<extract::Document>(&outcome)) {
    DROPD_FUZZ_CHECK(!doc->method.empty());
    const std::string repaired = extractor::repairUtf8(doc->text);
    DROPD_FUZZ_CHECK(validUtf8(repaired));
  } else {
    DROPD_FUZZ_CHECK(!std::get<extract::Failure>(outcome).reason.empty());
  }
}

inline extractor::Bytes bytesOf(const std::uint8_t* data, std::size_t size) { return {data, size}; }

}  // namespace dropd::fuzz
