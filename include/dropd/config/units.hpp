#pragma once

// Durations and sizes as written in the config file. Pure functions, any
// thread. The error's context is a message fit for a config diagnostic.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "dropd/base/error.hpp"

namespace dropd::config {

// "250ms", "10s", "5m", "1h" and sums of them without spaces ("1m30s"). A bare
// "0" is zero. No sign, no fractions, no spaces. Fails on overflow past ~292
// years (milliseconds in int64).
[[nodiscard]] Result<std::chrono::milliseconds> parseDuration(std::string_view text);

// Plain bytes ("1024") or an integer with a binary unit: B, KiB, MiB, GiB,
// TiB. SI units (KB, MB, GB, k, M) are refused because half of the world
// reads them as powers of 1024: the message says which binary unit to write.
[[nodiscard]] Result<std::uint64_t> parseSize(std::string_view text);

// The shortest exact form parseDuration() reads back: "1h30m", "250ms", "0".
[[nodiscard]] std::string formatDuration(std::chrono::milliseconds duration);

// The largest exact binary unit: "8MiB", "1000B" stays "1000".
[[nodiscard]] std::string formatSize(std::uint64_t size_bytes);

}  // namespace dropd::config
