#pragma once

// The stats of one file's content, as INTERFACE.md defines them ("One result
// per file"): computed in one pass over the bytes, fed in chunks of any size so
// a large file is never held whole. Pure: no I/O, no clock, no logging; total
// on every input (empty, binary, invalid UTF-8). Any thread may use its own
// StatsAccumulator; one accumulator must not be shared between threads.
// docs/stats.md explains every definition and where GNU wc differs.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace dropd::file {

struct Stats {
  std::uint64_t bytes = 0;  // `wc -c`
  std::uint64_t lines = 0;  // count of '\n' (`wc -l`)
  // Runs of bytes other than ASCII whitespace (space \t \n \v \f \r): Python's
  // len(data.split()). Differs from GNU `wc -w` on some inputs: docs/stats.md.
  std::uint64_t words = 0;
  // Code points of the valid UTF-8 sequences plus one per invalid byte (a byte
  // that is not part of a well-formed sequence); `LC_ALL=C.UTF-8 wc -m` on
  // valid UTF-8, Python's len(data.decode("utf-8", "surrogateescape")) always.
  std::uint64_t chars = 0;
  bool utf8_valid = true;                // false if any byte is invalid (incl. truncated at EOF)
  std::string sha256;                    // 64 lowercase hex digits
  std::uint64_t estimated_tokens = 0;    // see token_estimate.hpp
  std::uint64_t nul_bytes = 0;           // bytes equal to 0x00
  std::uint64_t invalid_utf8_bytes = 0;  // the "one per invalid byte" part of chars
  std::uint64_t non_ascii_bytes = 0;     // bytes >= 0x80
};

// A file is binary (pipeline policy `binary:`) if it holds a NUL byte, or if
// more than kBinaryInvalidPercent percent of its bytes are invalid UTF-8 (a
// few stray Latin-1 bytes in a text file do not make it binary).
inline constexpr std::uint64_t kBinaryInvalidPercent = 30;
[[nodiscard]] bool looksBinary(const Stats& stats);

struct EvpMdCtxDeleter {
  void operator()(evp_md_ctx_st* ctx) const noexcept;
};

// Accumulates the stats of a byte stream fed in chunks. Feeding a buffer in
// any split (chunk boundaries inside a UTF-8 sequence, a word or a run of
// whitespace) gives exactly the result of computeStats() on the whole buffer.
class StatsAccumulator {
 public:
  StatsAccumulator();
  StatsAccumulator(StatsAccumulator&&) noexcept = default;
  StatsAccumulator& operator=(StatsAccumulator&&) noexcept = default;
  ~StatsAccumulator() = default;

  void feed(std::span<const std::byte> chunk);
  // Ends the stream: bytes of a sequence still pending count as invalid.
  [[nodiscard]] Stats finish() &&;

 private:
  void feedBlock(const unsigned char* p, std::size_t n);
  std::size_t finishPending(const unsigned char* p, std::size_t n);
  void countEdge(const unsigned char* p, std::size_t n);
  void countRegion(const unsigned char* p, std::size_t n);

  std::unique_ptr<evp_md_ctx_st, EvpMdCtxDeleter> sha_;
  Stats stats_;
  bool in_word_ = false;
  // The start of a UTF-8 sequence cut by a chunk boundary (a lead byte and
  // fewer continuation bytes than it needs); decoded when the next bytes come.
  unsigned char pending_[3] = {};
  std::size_t pending_len_ = 0;
};

[[nodiscard]] Stats computeStats(std::span<const std::byte> data);

}  // namespace dropd::file
