#include "dropd/throttle/rate_limit_headers.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace dropd::throttle {

namespace {

using std::chrono::milliseconds;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads "123" or "123.45" from the front of `text` and consumes it. Only
// plain decimals: no sign, exponent, "inf" or "nan", which from_chars would
// accept.
std::optional<double> takeDecimal(std::string_view& text) {
  std::size_t end = 0;
  while (end < text.size() && isDigit(text[end])) {
    ++end;
  }
  if (end == 0) {
    return std::nullopt;
  }
  if (end < text.size() && text[end] == '.') {
    const std::size_t dot = end++;
    while (end < text.size() && isDigit(text[end])) {
      ++end;
    }
    if (end == dot + 1) {
      return std::nullopt;  // "1." is not a number here
    }
  }
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
  if (ec != std::errc() || ptr != text.data() + end || !std::isfinite(value)) {
    return std::nullopt;
  }
  text.remove_prefix(end);
  return value;
}

// Milliseconds from a count of `unit_ms`-long units, rounded up, or nullopt
// past kMaxHeaderWait.
std::optional<milliseconds> toMillis(double count, double unit_ms) {
  const double ms = std::ceil(count * unit_ms - 1e-9);
  if (!(ms >= 0) || ms > static_cast<double>(kMaxHeaderWait.count())) {
    return std::nullopt;
  }
  return milliseconds(static_cast<std::int64_t>(ms));
}

// Fixed-width decimal field of an HTTP-date.
std::optional<int> fixedNumber(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (!isDigit(text[i])) {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<unsigned> monthNumber(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) {
      return i + 1;
    }
  }
  return std::nullopt;
}

// The length in milliseconds of a Go duration unit, 0 if unknown.
double unitMillis(std::string_view unit) {
  if (unit == "h") {
    return 3600e3;
  }
  if (unit == "m") {
    return 60e3;
  }
  if (unit == "s") {
    return 1e3;
  }
  if (unit == "ms") {
    return 1.0;
  }
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {  // µ: micro sign or mu
    return 1e-3;
  }
  if (unit == "ns") {
    return 1e-6;
  }
  return 0;
}

}  // namespace

std::optional<WallTime> parseHttpDate(std::string_view value) {
  // "Wed, 21 Oct 2015 07:28:00 GMT": 29 characters, every field at a fixed place.
  value = trim(value);
  if (value.size() != 29 || value.substr(3, 2) != ", " || value[7] != ' ' || value[11] != ' ' ||
      value[16] != ' ' || value[19] != ':' || value[22] != ':' || value.substr(25) != " GMT") {
    return std::nullopt;
  }
  const auto day = fixedNumber(value, 5, 2);
  const auto month = monthNumber(value.substr(8, 3));
  const auto year = fixedNumber(value, 12, 4);
  const auto hour = fixedNumber(value, 17, 2);
  const auto minute = fixedNumber(value, 20, 2);
  const auto second = fixedNumber(value, 23, 2);
  if (!day || !month || !year || !hour || !minute || !second || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{*year}, std::chrono::month{*month},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  using namespace std::chrono;
  // WallTime counts nanoseconds in 64 bits with libstdc++, years 1678 to
  // 2262 only: a date outside what it holds (a four-digit year can be 9999)
  // is junk, and converting it would overflow.
  constexpr days kLastWholeDay = floor<days>(WallTime::duration::max()) - days{1};
  const days since_epoch = sys_days{date}.time_since_epoch();
  if (since_epoch > kLastWholeDay || since_epoch < -kLastWholeDay) {
    return std::nullopt;
  }
  return WallTime{sys_days{date}} + hours{*hour} + minutes{*minute} + seconds{*second};
}

std::optional<milliseconds> parseRetryAfter(std::string_view value, WallTime now_wall) {
  value = trim(value);
  std::string_view rest = value;
  if (const auto seconds = takeDecimal(rest)) {
    return rest.empty() ? toMillis(*seconds, 1000.0) : std::nullopt;
  }
  const auto date = parseHttpDate(value);
  if (!date) {
    return std::nullopt;
  }
  if (*date <= now_wall) {
    return milliseconds(0);
  }
  const auto ahead = std::chrono::duration<double, std::milli>(*date - now_wall).count();
  return toMillis(ahead, 1.0);
}

std::optional<milliseconds> parseRetryAfterMs(std::string_view value) {
  std::string_view rest = trim(value);
  const auto ms = takeDecimal(rest);
  if (!ms || !rest.empty()) {
    return std::nullopt;
  }
  return toMillis(*ms, 1.0);
}

std::optional<milliseconds> pickRetryAfter(std::optional<std::string_view> retry_after_ms,
                                           std::optional<std::string_view> retry_after,
                                           WallTime now_wall) {
  if (retry_after_ms) {
    if (auto ms = parseRetryAfterMs(*retry_after_ms)) {
      return ms;
    }
  }
  if (retry_after) {
    return parseRetryAfter(*retry_after, now_wall);
  }
  return std::nullopt;
}

std::optional<milliseconds> parseResetDuration(std::string_view value) {
  std::string_view rest = trim(value);
  {
    std::string_view probe = rest;
    if (const auto bare = takeDecimal(probe); bare && probe.empty()) {
      return toMillis(*bare, 1000.0);  // a bare number: seconds
    }
  }
  if (rest.empty()) {
    return std::nullopt;
  }
  double total_ms = 0;
  while (!rest.empty()) {
    const auto count = takeDecimal(rest);
    if (!count) {
      return std::nullopt;
    }
    std::size_t unit_end = 0;
    while (unit_end < rest.size() && !isDigit(rest[unit_end]) && rest[unit_end] != '.') {
      ++unit_end;
    }
    const double unit_ms = unitMillis(rest.substr(0, unit_end));
    if (unit_ms == 0) {
      return std::nullopt;
    }
    total_ms += *count * unit_ms;
    rest.remove_prefix(unit_end);
  }
  return toMillis(total_ms, 1.0);
}

std::optional<std::uint64_t> parseRemaining(std::string_view value) {
  value = trim(value);
  std::uint64_t number = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (value.empty() || !isDigit(value.front()) || ec != std::errc() ||
      ptr != value.data() + value.size()) {
    return std::nullopt;
  }
  return number;
}

RateLimitHints parseRateLimitHeaders(std::optional<std::string_view> remaining_requests,
                                     std::optional<std::string_view> remaining_tokens,
                                     std::optional<std::string_view> reset_requests,
                                     std::optional<std::string_view> reset_tokens) {
  RateLimitHints hints;
  if (remaining_requests) {
    hints.remaining_requests = parseRemaining(*remaining_requests);
  }
  if (remaining_tokens) {
    hints.remaining_tokens = parseRemaining(*remaining_tokens);
  }
  if (reset_requests) {
    hints.reset_requests = parseResetDuration(*reset_requests);
  }
  if (reset_tokens) {
    hints.reset_tokens = parseResetDuration(*reset_tokens);
  }
  return hints;
}

}  // namespace dropd::throttle
