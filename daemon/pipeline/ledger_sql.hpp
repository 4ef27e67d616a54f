#pragma once

// SQLite helpers shared by the Ledger (ledger_rows.cpp), LedgerLookup and
// the side connections (ledger_tries.cpp, ledger_chunks.cpp), so all bind
// a file's identity the same way: a look-up must find exactly the key a
// record() wrote. Private to the pipeline module.

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <sqlite3.h>

#include "dropd/base/error.hpp"
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

// A side connection to ledger.db (the extraction tries', the chunk
// answers'): its own handle, used by one pool work at a time, with the
// `synchronous` level its rows need ("FULL" or "NORMAL"). `what` names
// its rows in the error, which names the file.
inline Result<sqlite3*> openSide(const std::filesystem::path& path, std::string_view what,
                                 std::string_view synchronous) {
  constexpr int kBusyTimeoutMs = 5000;
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    auto error = makeError(ErrorCode::kSystem, fmt::format("ledger: open for {} ({}): {}", what,
                                                           path.string(), sqlite3_errmsg(db)));
    sqlite3_close(db);
    return error;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  const std::string pragma = fmt::format("PRAGMA synchronous = {}", synchronous);
  (void)sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr);
  return db;
}

// Seconds since the epoch, for the rows' updated_at.
inline std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string columnText(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  if (text == nullptr) {
    return {};
  }
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))};
}

}  // namespace dropd::pipeline::sql
