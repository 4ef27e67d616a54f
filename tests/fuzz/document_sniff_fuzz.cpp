// sniffText on any bytes: only the first kSniffBytes decide (anything
// appended after them changes nothing), and a UTF-8 BOM in front changes
// nothing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/pipeline/document_sniff.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using dropd::pipeline::kSniffBytes;
  using dropd::pipeline::sniffText;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto kind = sniffText(text);
  const std::string head(text.substr(0, kSniffBytes));
  DROPD_FUZZ_CHECK(sniffText(head) == kind);
  if (size >= kSniffBytes) {
    DROPD_FUZZ_CHECK(sniffText(head + "<html>") == kind);
  }
  if (!text.starts_with("\xEF\xBB\xBF") && size + 3 <= kSniffBytes) {
    DROPD_FUZZ_CHECK(sniffText("\xEF\xBB\xBF" + std::string(text)) == kind);
  }
  (void)dropd::pipeline::formatOf(kind);
  return 0;
}
