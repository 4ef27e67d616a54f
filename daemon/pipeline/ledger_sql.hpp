#pragma once

// SQLite helpers shared by the Ledger (ledger_rows.cpp) and LedgerLookup,
// so both bind a file's identity the same way: a look-up must find exactly
// the key a record() wrote. Private to the pipeline module.

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "dropd/file/reader.hpp"

namespace dropd::pipeline::sql {

// SQLITE_STATIC: the text is only read by the sqlite3_step() that follows,
// while the caller's string is alive, so SQLite need not copy it.
inline int bindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

// dev, ino, size, mtime_ns into parameters first..first+3. uint64 values are
// kept bit for bit in SQLite's int64 (inode numbers may use bit 63).
inline int bindIdentity(sqlite3_stmt* stmt, int first, const file::FileIdentity& id) {
  const auto mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(id.mtime.time_since_epoch());
  const std::array<int, 4> rcs = {
      sqlite3_bind_int64(stmt, first, std::bit_cast<std::int64_t>(id.dev)),
      sqlite3_bind_int64(stmt, first + 1, std::bit_cast<std::int64_t>(id.ino)),
      sqlite3_bind_int64(stmt, first + 2, std::bit_cast<std::int64_t>(id.size)),
      sqlite3_bind_int64(stmt, first + 3, mtime_ns.count()),
  };
  for (const int rc : rcs) {
    if (rc != SQLITE_OK) {
      return rc;
    }
  }
  return SQLITE_OK;
}

inline std::string columnText(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  if (text == nullptr) {
    return {};
  }
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))};
}

}  // namespace dropd::pipeline::sql
