#pragma once

// UTF-8 helpers for extracted text: repair, count, cut. Pure; any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace dropd::extractor {

// The text with each ill-formed subpart replaced by U+FFFD (one per maximal
// subpart, as base::decodeUtf8Step cuts them) and NUL bytes dropped.
[[nodiscard]] std::string repairUtf8(std::string_view text);

// Code points in valid UTF-8 text.
[[nodiscard]] std::uint64_t countCodePoints(std::string_view text);

// The byte length of the first `max_code_points` code points of valid UTF-8
// text (its whole size if it has fewer): a cut there never splits one.
[[nodiscard]] std::size_t codePointPrefix(std::string_view text, std::uint64_t max_code_points);

// Appends code point `cp` (U+FFFD for surrogates and values past U+10FFFF).
void appendCodePoint(std::string& out, std::uint32_t cp);

}  // namespace dropd::extractor
