// Repair, count and cut UTF-8 text (utf8_text.hpp).
#include "dropd/extractor/utf8_text.hpp"

#include "dropd/base/utf8_decode.hpp"

namespace dropd::extractor {

void appendCodePoint(std::string& out, std::uint32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    cp = 0xFFFD;
  }
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string repairUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::string out;
  out.reserve(n);
  std::size_t i = 0;
  while (i < n) {
    // ASCII runs (the bulk of most text) are copied whole.
    std::size_t run = i;
    while (run < n && p[run] != 0 && p[run] < 0x80) {
      ++run;
    }
    out.append(text.substr(i, run - i));
    i = run;
    if (i == n) {
      break;
    }
    if (p[i] == 0) {
      ++i;
      continue;
    }
    const base::Utf8Step step = base::decodeUtf8Step(p + i, n - i);
    if (step.kind == base::Utf8StepKind::kValid) {
      out.append(text.substr(i, step.len));
    } else {
      appendCodePoint(out, 0xFFFD);
    }
    i += step.len == 0 ? 1 : step.len;
  }
  return out;
}

std::uint64_t countCodePoints(std::string_view text) {
  std::uint64_t count = 0;
  for (const char c : text) {
    count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

std::size_t codePointPrefix(std::string_view text, std::uint64_t max_code_points) {
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == max_code_points) {
        return i;
      }
      ++seen;
    }
  }
  return text.size();
}

}  // namespace dropd::extractor
