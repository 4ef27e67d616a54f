// appendJsonEscaped() on any bytes: the result, quoted, is one valid JSON
// string with no raw control bytes; it decodes to valid UTF-8; valid UTF-8
// input comes back byte for byte; and each maximal invalid subpart becomes
// exactly one U+FFFD.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/llm/json_escape.hpp"

#include "fuzz_check.hpp"

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::size_t countReplacements(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t at = text.find(kReplacement); at != std::string_view::npos;
       at = text.find(kReplacement, at + kReplacement.size())) {
    ++count;
  }
  return count;
}

// How many U+FFFD a decoder that replaces maximal subparts writes.
std::size_t countInvalidSubparts(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t count = 0;
  for (std::size_t i = 0; i < bytes.size();) {
    const dropd::base::Utf8Step step = dropd::base::decodeUtf8Step(p + i, bytes.size() - i);
    count += step.kind != dropd::base::Utf8StepKind::kValid;
    i += step.len;
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};
  std::string quoted = "\"";
  dropd::llm::appendJsonEscaped(quoted, bytes);
  quoted += '"';
  for (const char c : quoted) {
    DROPD_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
  const auto doc = nlohmann::json::parse(quoted, nullptr, false);
  DROPD_FUZZ_CHECK(!doc.is_discarded() && doc.is_string());
  const auto& decoded = doc.get_ref<const std::string&>();
  const auto* p = reinterpret_cast<const unsigned char*>(decoded.data());
  DROPD_FUZZ_CHECK(dropd::base::decodeUtf8(p, decoded.size()).invalid_bytes == 0);
  const std::size_t invalid = countInvalidSubparts(bytes);
  if (invalid == 0) {
    DROPD_FUZZ_CHECK(decoded == bytes);
  }
  DROPD_FUZZ_CHECK(countReplacements(decoded) == countReplacements(bytes) + invalid);
  return 0;
}
