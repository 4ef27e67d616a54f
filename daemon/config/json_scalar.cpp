#include "dropd/config/json_scalar.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace dropd::config {
namespace {

using nlohmann::json;
using namespace std::string_view_literals;

tl::unexpected<Error> refuse(std::string message) {
  return makeError(ErrorCode::kInvalid, std::move(message));
}

bool allOf(std::string_view text, int (*pred)(int)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [pred](char c) {
    return pred(static_cast<unsigned char>(c)) != 0;
  });
}

int isOctalDigit(int c) { return c >= '0' && c <= '7' ? 1 : 0; }

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

// .inf, .nan and the spellings of them a user may mean as numbers.
bool isNonFinite(std::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    text.remove_prefix(1);
  }
  const std::string l = lower(text);
  return l == ".inf" || l == ".nan" || l == "inf" || l == "nan" || l == "infinity";
}

// Digits in `base` (no sign) as an integer: int64 when it fits, else uint64.
Result<json> integer(std::string_view digits, int base, bool negative, std::string_view text) {
  const char* const end = digits.data() + digits.size();
  std::uint64_t magnitude = 0;
  const auto [stop, ec] = std::from_chars(digits.data(), end, magnitude, base);
  const std::uint64_t most_negative = std::uint64_t{1} << 63;
  if (ec != std::errc{} || stop != end || (negative && magnitude > most_negative)) {
    return refuse("integer " + std::string(text) + " does not fit in 64 bits");
  }
  if (negative) {
    return json(magnitude == most_negative ? std::numeric_limits<std::int64_t>::min()
                                           : -static_cast<std::int64_t>(magnitude));
  }
  if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return json(static_cast<std::int64_t>(magnitude));
  }
  return json(magnitude);
}

// The core schema's float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool isCoreFloat(std::string_view text) {
  std::size_t i = (!text.empty() && (text[0] == '+' || text[0] == '-')) ? 1 : 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    return i - from;
  };
  std::size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) {
    return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    if (digits() == 0) {
      return false;
    }
  }
  return i == text.size();
}

Result<json> floating(std::string_view text) {
  const std::string_view unsigned_text = text[0] == '+' ? text.substr(1) : text;
  double value = 0;
  const char* const end = unsigned_text.data() + unsigned_text.size();
  const auto [stop, ec] = std::from_chars(unsigned_text.data(), end, value);
  if (ec != std::errc{} || stop != end) {
    return refuse("number " + std::string(text) + " is out of range for a double");
  }
  return json(value);
}

std::optional<json> nullOrBool(std::string_view text) {
  constexpr std::array kNull{""sv, "~"sv, "null"sv, "Null"sv, "NULL"sv};
  if (std::find(kNull.begin(), kNull.end(), text) != kNull.end()) {
    return json(nullptr);
  }
  if (text == "true" || text == "True" || text == "TRUE") {
    return json(true);
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return json(false);
  }
  return std::nullopt;
}

}  // namespace

Result<json> plainScalarToJson(std::string_view text) {
  if (auto constant = nullOrBool(text)) {
    return *constant;
  }
  if (isNonFinite(text)) {
    return refuse(std::string(text) +
                  " is not a finite number, and JSON cannot carry it (quote it for a string)");
  }
  if (text.starts_with("0x") && allOf(text.substr(2), isxdigit)) {
    return integer(text.substr(2), 16, false, text);
  }
  if (text.starts_with("0o") && allOf(text.substr(2), isOctalDigit)) {
    return integer(text.substr(2), 8, false, text);
  }
  const bool sign = !text.empty() && (text[0] == '+' || text[0] == '-');
  if (allOf(text.substr(sign ? 1 : 0), isdigit)) {
    return integer(text.substr(sign ? 1 : 0), 10, text[0] == '-', text);
  }
  if (isCoreFloat(text)) {
    return floating(text);
  }
  return json(std::string(text));
}

}  // namespace dropd::config
