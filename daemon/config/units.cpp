#include "dropd/config/units.hpp"

#include <array>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace dropd::config {
namespace {

using std::chrono::milliseconds;

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Longest names first so "ms" is not read as "m" followed by junk.
constexpr std::array<Unit, 4> kDurationUnits{
    {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};

constexpr std::array<Unit, 5> kSizeUnits{
    {{"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}, {"B", 1}}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads the leading digits of `text` into `value`; returns how many were read
// (0 when none, or when the number does not fit).
std::size_t readNumber(std::string_view text, std::uint64_t& value) {
  std::size_t n = 0;
  while (n < text.size() && isDigit(text[n])) {
    ++n;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + n, value);
  return ec == std::errc{} ? n : 0;
}

bool mulOverflows(std::uint64_t a, std::uint64_t b, std::uint64_t limit) {
  return b != 0 && a > limit / b;
}

tl::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalid, std::move(message));
}

}  // namespace

Result<milliseconds> parseDuration(std::string_view text) {
  const auto syntaxError = [text] {
    return invalid(
        fmt::format("'{}' is not a duration: write a whole number and a unit (ms, s, m, h)"
                    ", e.g. 250ms, 10s, 5m, 1h30m",
                    text));
  };
  if (text == "0") {
    return milliseconds{0};
  }
  if (text.starts_with('-')) {
    return invalid(fmt::format("'{}' is not a duration: durations cannot be negative", text));
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<milliseconds::rep>::max());
  std::uint64_t total = 0;
  std::string_view rest = text;
  do {
    std::uint64_t value = 0;
    const std::size_t digits = readNumber(rest, value);
    if (digits == 0) {
      return syntaxError();
    }
    rest.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const Unit& candidate : kDurationUnits) {
      if (rest.starts_with(candidate.name) &&
          (rest.size() == candidate.name.size() || isDigit(rest[candidate.name.size()]))) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) {
      return syntaxError();
    }
    rest.remove_prefix(unit->name.size());
    if (mulOverflows(value, unit->factor, kMax) || total > kMax - value * unit->factor) {
      return invalid(fmt::format("'{}' is too long for a duration", text));
    }
    total += value * unit->factor;
  } while (!rest.empty());
  return milliseconds{static_cast<milliseconds::rep>(total)};
}

Result<std::uint64_t> parseSize(std::string_view text) {
  std::uint64_t value = 0;
  const std::size_t digits = readNumber(text, value);
  if (digits == 0) {
    return invalid(
        fmt::format("'{}' is not a size: write bytes or a number and KiB, MiB, GiB, TiB", text));
  }
  const std::string_view suffix = text.substr(digits);
  if (suffix.empty()) {
    return value;
  }
  for (const Unit& unit : kSizeUnits) {
    if (suffix == unit.name) {
      if (mulOverflows(value, unit.factor, std::numeric_limits<std::uint64_t>::max())) {
        return invalid("size is too large");
      }
      return value * unit.factor;
    }
  }
  constexpr std::array<std::string_view, 4> kSiHints{"K", "M", "G", "T"};
  for (const std::string_view prefix : kSiHints) {
    if (suffix.size() <= 2 && (suffix[0] == prefix[0] || suffix[0] == prefix[0] + 32)) {
      return invalid(
          fmt::format("size unit '{}' is ambiguous: write {}{}iB (powers of 1024) or plain bytes",
                      suffix, text.substr(0, digits), prefix));
    }
  }
  return invalid(
      fmt::format("size has an unknown unit '{}': use KiB, MiB, GiB, TiB or plain bytes", suffix));
}

std::string formatDuration(milliseconds duration) {
  if (duration.count() <= 0) {
    return "0";
  }
  auto rest = static_cast<std::uint64_t>(duration.count());
  std::string out;
  for (auto unit = kDurationUnits.rbegin(); unit != kDurationUnits.rend(); ++unit) {
    if (rest >= unit->factor) {
      out += fmt::format("{}{}", rest / unit->factor, unit->name);
      rest %= unit->factor;
    }
  }
  return out;
}

std::string formatSize(std::uint64_t size_bytes) {
  for (const Unit& unit : kSizeUnits) {
    if (unit.factor > 1 && size_bytes != 0 && size_bytes % unit.factor == 0) {
      return fmt::format("{}{}", size_bytes / unit.factor, unit.name);
    }
  }
  return fmt::format("{}", size_bytes);
}

}  // namespace dropd::config
