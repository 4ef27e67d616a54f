#pragma once

// The one rule for every name dropd makes from a source's name: records
// (`<name>.json`, `<name>.N.error.json`), their temp files, and moved
// sources with a `.N` suffix. A name is at most NAME_MAX (255) bytes on
// Linux file systems, and a source's name may already be that long, so a
// name that would not fit is shortened: the source name is cut (never
// inside a UTF-8 sequence) and followed by `~` and 8 hex digits of a hash of
// the whole source name, then the suffix. Two long names that share their
// first ~230 bytes thus still get names of their own (and where even that
// collides, the callers' ".N" rule takes over). The record says which source
// it is of (`source.path`), so no program needs to undo the rule. Pure; any
// thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dropd::file {

inline constexpr std::size_t kNameMax = 255;  // NAME_MAX on Linux

// `name` + `suffix` if that fits in `limit` bytes, else the shortened form
// above. The suffix is kept whole; a suffix longer than limit - 9 is a
// caller's bug and gives `suffix` cut to `limit`.
[[nodiscard]] std::string fitName(std::string_view name, std::string_view suffix,
                                  std::size_t limit = kNameMax);

// The name of a temp file beside `final_name` (always hidden, always ending
// in ".dropd-tmp", so removeStaleTemps finds it), told apart by `tag` when
// several writers may want the same final name.
[[nodiscard]] std::string tempNameFor(std::string_view final_name, std::uint32_t tag);

// FNV-1a, 64 bits: stable across builds and runs (std::hash is not), so a
// name made once is made the same way after a restart.
[[nodiscard]] std::uint64_t stableHash(std::string_view bytes) noexcept;

}  // namespace dropd::file
