#pragma once

// "Did you mean ...?" for typos in keys, enum values and placeholders.

#include <optional>
#include <span>
#include <string_view>

namespace dropd::config::detail {

// The candidate nearest to `word` by edit distance, when it is close enough
// to be a plausible typo (at most 2 edits, and fewer than half the letters).
[[nodiscard]] std::optional<std::string_view> nearest(std::string_view word,
                                                      std::span<const std::string_view> candidates);

}  // namespace dropd::config::detail
