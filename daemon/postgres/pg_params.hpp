#pragma once

// Parameters for the PostgreSQL ledger's statements, private to the module.
// Paths, relative names and errors are bytea (a Linux file name need not be
// UTF-8, and PostgreSQL text refuses what is not); they travel binary when
// alone and as hex elements inside array literals. Numbers are text. uint64
// values (dev, ino, size) are stored bit for bit in bigint, as in SQLite.

#include <bit>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "dropd/file/reader.hpp"
#include "dropd/postgres/pg_connection.hpp"

namespace dropd::postgres::params {

inline PgParam text(std::string_view s) { return {std::string(s), false}; }
inline PgParam bytes(std::string_view s) { return {std::string(s), true}; }
inline PgParam int64(std::int64_t v) { return {std::to_string(v), false}; }
inline std::int64_t bits(std::uint64_t v) { return std::bit_cast<std::int64_t>(v); }
// Seconds since the epoch, for rows' updated_at.
inline std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline std::int64_t mtimeNs(const file::FileIdentity& id) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(id.mtime.time_since_epoch()).count();
}

// Builds one array literal ({...}) element by element.
class ArrayLiteral {
 public:
  void addInt(std::int64_t v) {
    sep();
    out_ += std::to_string(v);
  }
  void addBool(bool v) {
    sep();
    out_ += v ? 't' : 'f';
  }
  // A quoted element: '"' and '\' escaped with a backslash.
  void addText(std::string_view s) {
    sep();
    out_ += '"';
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        out_ += '\\';
      }
      out_ += c;
    }
    out_ += '"';
  }
  // bytea's hex input form, \x..., quoted (its backslash escaped).
  void addBytes(std::string_view s) {
    sep();
    out_ += "\"\\\\x";
    for (const char c : s) {
      fmt::format_to(std::back_inserter(out_), "{:02x}", static_cast<unsigned char>(c));
    }
    out_ += '"';
  }
  [[nodiscard]] PgParam take() { return {"{" + out_ + "}", false}; }

 private:
  void sep() {
    if (!first_) {
      out_ += ',';
    }
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

}  // namespace dropd::postgres::params
