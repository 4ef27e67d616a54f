#include "dropd/file/file_name.hpp"

#include <fmt/format.h>

#include "dropd/base/utf8_decode.hpp"

namespace dropd::file {
namespace {

constexpr std::string_view kTempSuffix = ".dropd-tmp";
constexpr std::size_t kHashPart = 9;  // "~" and 8 hex digits

// The longest prefix of `name` of at most `max` bytes that does not end
// inside a well-formed UTF-8 sequence (bytes that are not UTF-8 count one each).
std::size_t cutPoint(std::string_view name, std::size_t max) {
  const auto* p = reinterpret_cast<const unsigned char*>(name.data());
  std::size_t at = 0;
  while (at < name.size()) {
    const base::Utf8Step step = base::decodeUtf8Step(p + at, name.size() - at);
    const std::size_t len = step.kind == base::Utf8StepKind::kValid ? step.len : 1;
    if (at + len > max) {
      break;
    }
    at += len;
  }
  return at;
}

}  // namespace

std::uint64_t stableHash(std::string_view bytes) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string fitName(std::string_view name, std::string_view suffix, std::size_t limit) {
  if (name.size() + suffix.size() <= limit) {
    std::string out;
    out.reserve(name.size() + suffix.size());
    out.append(name).append(suffix);
    return out;
  }
  if (suffix.size() + kHashPart > limit) {
    return std::string(suffix.substr(0, limit));
  }
  const std::size_t keep = cutPoint(name, limit - suffix.size() - kHashPart);
  return fmt::format("{}~{:08x}{}", name.substr(0, keep),
                     static_cast<std::uint32_t>(stableHash(name)), suffix);
}

std::string tempNameFor(std::string_view final_name, std::uint32_t tag) {
  return "." + fitName(final_name, fmt::format(".{:08x}{}", tag, kTempSuffix), kNameMax - 1);
}

}  // namespace dropd::file
