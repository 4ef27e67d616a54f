#include "dropd/net/chunk_line.hpp"

namespace dropd::net {

namespace {

bool isHexDigit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

// RFC 9110 §5.6.4 qdtext and the second byte of a quoted-pair: HTAB, SP,
// visible ASCII and obs-text, but no other control byte.
bool isQuotedChar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || u == ' ' || (u >= 0x21 && u != 0x7f);
}

// Consumes the front of `in` while `pred` holds; returns how many bytes.
template <typename Pred>
std::size_t skipWhile(std::string_view& in, Pred pred) noexcept {
  std::size_t n = 0;
  while (n < in.size() && pred(in[n])) {
    ++n;
  }
  in.remove_prefix(n);
  return n;
}

void skipBws(std::string_view& in) noexcept {
  skipWhile(in, [](char c) { return c == ' ' || c == '\t'; });
}

// A quoted-string, opening quote first; false if it never closes.
bool skipQuoted(std::string_view& in) noexcept {
  in.remove_prefix(1);
  while (!in.empty()) {
    const char c = in.front();
    in.remove_prefix(1);
    if (c == '"') {
      return true;
    }
    if (c == '\\') {
      if (in.empty() || !isQuotedChar(in.front())) {
        return false;
      }
      in.remove_prefix(1);
    } else if (!isQuotedChar(c)) {
      return false;
    }
  }
  return false;
}

// One `BWS ";" BWS name [ BWS "=" BWS value ]`, from the ";" on (the BWS
// before it is already gone).
bool skipExtension(std::string_view& in) noexcept {
  if (in.empty() || in.front() != ';') {
    return false;
  }
  in.remove_prefix(1);
  skipBws(in);
  if (skipWhile(in, isTokenChar) == 0) {
    return false;
  }
  skipBws(in);
  if (in.empty() || in.front() != '=') {
    return true;  // a bare name
  }
  in.remove_prefix(1);
  skipBws(in);
  if (!in.empty() && in.front() == '"') {
    return skipQuoted(in);
  }
  return skipWhile(in, isTokenChar) > 0;
}

}  // namespace

std::optional<std::string_view> chunkSizeOf(std::string_view line) noexcept {
  std::string_view rest = line;
  const std::size_t digits = skipWhile(rest, isHexDigit);
  if (digits == 0) {
    return std::nullopt;
  }
  while (!rest.empty()) {
    skipBws(rest);  // BWS only before a ";": trailing whitespace is not in the grammar
    if (!skipExtension(rest)) {
      return std::nullopt;
    }
  }
  return line.substr(0, digits);
}

}  // namespace dropd::net
