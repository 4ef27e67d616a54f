#include "dropd/llm/json_escape.hpp"

#include <array>
#include <cstdint>

#include "dropd/base/utf8_decode.hpp"

namespace dropd::llm {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// True for ASCII bytes that go into a JSON string unchanged.
constexpr std::array<bool, 256> makePlainTable() {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) {
    t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  }
  return t;
}
constexpr std::array<bool, 256> kPlain = makePlainTable();

void appendControl(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default:
      break;
  }
  out += "\\u00";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

}  // namespace

void appendJsonEscaped(std::string& out, std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t run = i;
    while (run < bytes.size() && kPlain[static_cast<uint8_t>(bytes[run])]) {
      ++run;
    }
    out.append(bytes.data() + i, run - i);
    i = run;
    if (i == bytes.size()) {
      break;
    }
    const auto c = static_cast<uint8_t>(bytes[i]);
    if (c < 0x80) {
      appendControl(out, c);
      ++i;
      continue;
    }
    // The stats' own decoder: a maximal invalid subpart (or a sequence cut
    // off by the end) is one U+FFFD, as Unicode recommends.
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + i);
    const base::Utf8Step step = base::decodeUtf8Step(p, bytes.size() - i);
    if (step.kind == base::Utf8StepKind::kValid) {
      out.append(bytes.data() + i, step.len);
    } else {
      out += kReplacement;
    }
    i += step.len;
  }
}

}  // namespace dropd::llm
