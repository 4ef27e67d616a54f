#include "dropd/llm/json_escape.hpp"

#include <array>
#include <cstdint>

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

// Length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or
// the length of its maximal invalid subpart negated (at least 1).
int utf8Sequence(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = b(0);
  int need = 0;
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    lo = lead == 0xE0 ? 0xA0 : 0x80;  // no overlongs
    hi = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    lo = lead == 0xF0 ? 0x90 : 0x80;  // no overlongs
    hi = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  for (int i = 1; i <= need; ++i) {
    if (static_cast<size_t>(i) >= s.size() || b(i) < lo || b(i) > hi) {
      return -i;
    }
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
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
    const int len = utf8Sequence(bytes.substr(i));
    if (len > 0) {
      out.append(bytes.data() + i, static_cast<size_t>(len));
      i += static_cast<size_t>(len);
    } else {
      out += kReplacement;
      i += static_cast<size_t>(-len);
    }
  }
}

}  // namespace dropd::llm
