#include "dropd/file/stats.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <openssl/evp.h>

#include "dropd/base/utf8_decode.hpp"
#include "dropd/file/stats_kernel.hpp"
#include "dropd/file/token_estimate.hpp"

namespace dropd::file {

namespace {

// Hash and count the input in blocks this size, so the counting pass reads
// what SHA-256 just read from L1/L2 instead of memory (measured: bench/stats).
constexpr std::size_t kBlockBytes = 32 * 1024;

std::string toHex(const unsigned char* digest, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0x0F];
  }
  return hex;
}

[[noreturn]] void opensslFailed() noexcept {
  // SHA-256 is always available in OpenSSL; only allocation can fail here.
  std::abort();
}

}  // namespace

void EvpMdCtxDeleter::operator()(evp_md_ctx_st* ctx) const noexcept { EVP_MD_CTX_free(ctx); }

bool looksBinary(const Stats& stats) {
  return stats.nul_bytes > 0 ||
         stats.invalid_utf8_bytes * 100 > stats.bytes * kBinaryInvalidPercent;
}

StatsAccumulator::StatsAccumulator() : sha_(EVP_MD_CTX_new()) {
  if (!sha_ || EVP_DigestInit_ex(sha_.get(), EVP_sha256(), nullptr) != 1) {
    opensslFailed();
  }
}

void StatsAccumulator::feed(std::span<const std::byte> chunk) {
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  std::size_t left = chunk.size();
  while (left > 0) {
    const std::size_t n = std::min(left, kBlockBytes);
    feedBlock(p, n);
    p += n;
    left -= n;
  }
}

// Every byte is counted once, in order: the few bytes that complete a
// sequence left pending by the previous block, then the region the kernel
// takes (whole sequences only), then the start of a sequence cut at the end.
void StatsAccumulator::feedBlock(const unsigned char* p, std::size_t n) {
  if (EVP_DigestUpdate(sha_.get(), p, n) != 1) {
    opensslFailed();
  }
  stats_.bytes += n;
  const std::size_t start = pending_len_ > 0 ? finishPending(p, n) : 0;
  if (pending_len_ > 0) {
    return;  // the whole block went into the pending sequence
  }
  const std::size_t end = start + base::utf8CompletePrefix(p + start, n - start);
  countRegion(p + start, end - start);
  countEdge(p + end, n - end);
  std::memcpy(pending_, p + end, n - end);
  pending_len_ = n - end;
}

// Decodes the pending sequence with the first bytes of p; returns how many
// bytes of p that took (all of them if the sequence is still incomplete).
std::size_t StatsAccumulator::finishPending(const unsigned char* p, std::size_t n) {
  unsigned char joined[6];
  const std::size_t taken = std::min<std::size_t>(n, 3);
  std::memcpy(joined, pending_, pending_len_);
  std::memcpy(joined + pending_len_, p, taken);
  const std::size_t len = pending_len_ + taken;
  std::size_t pos = 0;
  while (pos < pending_len_) {
    const base::Utf8Step step = base::decodeUtf8Step(joined + pos, len - pos);
    if (step.kind == base::Utf8StepKind::kIncomplete) {
      // Only when p is shorter than the sequence's missing bytes: keep all.
      countEdge(p, n);
      std::memmove(pending_, joined + pos, len - pos);
      pending_len_ = len - pos;
      return n;
    }
    stats_.chars += step.kind == base::Utf8StepKind::kValid ? 1 : step.len;
    stats_.invalid_utf8_bytes += step.kind == base::Utf8StepKind::kValid ? 0 : step.len;
    pos += step.len;
  }
  const std::size_t used = pos - pending_len_;
  pending_len_ = 0;
  countEdge(p, used);
  return used;
}

// Counts bytes whose UTF-8 decoding is done elsewhere (pending sequences).
void StatsAccumulator::countEdge(const unsigned char* p, std::size_t n) {
  const RegionCounts c = countRegionScalar(p, n, in_word_);
  stats_.lines += c.lines;
  stats_.words += c.words;
  stats_.nul_bytes += c.nul;
  stats_.non_ascii_bytes += c.non_ascii;
  in_word_ = c.in_word;
}

// Counts a region of whole sequences; decodes it exactly only if invalid.
void StatsAccumulator::countRegion(const unsigned char* p, std::size_t n) {
  const RegionCounts c = dropd::file::countRegion(p, n, in_word_);
  stats_.lines += c.lines;
  stats_.words += c.words;
  stats_.nul_bytes += c.nul;
  stats_.non_ascii_bytes += c.non_ascii;
  in_word_ = c.in_word;
  if (c.utf8_valid) {
    stats_.chars += n - c.continuation;
    return;
  }
  const base::Utf8Counts exact = base::decodeUtf8(p, n);
  stats_.chars += exact.code_points + exact.invalid_bytes;
  stats_.invalid_utf8_bytes += exact.invalid_bytes;
}

Stats StatsAccumulator::finish() && {
  // A sequence still pending at the end of input is truncated: invalid.
  const base::Utf8Counts tail = base::decodeUtf8(pending_, pending_len_);
  stats_.chars += tail.code_points + tail.invalid_bytes;
  stats_.invalid_utf8_bytes += tail.invalid_bytes;
  pending_len_ = 0;
  stats_.utf8_valid = stats_.invalid_utf8_bytes == 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_DigestFinal_ex(sha_.get(), digest, &digest_len) != 1) {
    opensslFailed();
  }
  stats_.sha256 = toHex(digest, digest_len);
  stats_.estimated_tokens = estimateTokens({.bytes = stats_.bytes, .words = stats_.words});
  return std::move(stats_);
}

Stats computeStats(std::span<const std::byte> data) {
  StatsAccumulator acc;
  acc.feed(data);
  return std::move(acc).finish();
}

}  // namespace dropd::file
