#pragma once

// Fault injection for dropd-fake-llm: the grammar of --fault SPEC and the
// seeded choice of faults per request. Pure values and functions, except
// FaultPicker, which owns its RNG (one owner, loop thread).
//
// SPEC is KIND[,OPTION]... with
//   KIND:   status=CODE | reset-mid-body | hang | malformed-json | chunked | delay=DUR
//           | outage=FROM..TO | slow-body | oversize | chunk-ext
//           | stream-cut | stream-error | stall | split | gzip
//   OPTION: rate=P (0..1, default 1) | retry-after=S (status only)
//           | code=NAME (status only) | match=NAME | times=N
// `match=NAME` limits the fault to requests whose last user message
// contains NAME. `times=N` lets it fire N times at most (a 500 once:
// `status=500,match=NAME,times=1`). `outage=10s..40s` answers 503 to every request that
// arrives from 10 s to 40 s after the fake started. `code=NAME` puts NAME
// in the error body's "code" (e.g. status=429,code=insufficient_quota).
// `slow-body` writes the answer as many small pieces, one write each.
// `oversize` answers 200 with "Content-Length: 1099511627776" (1 TiB, far
// over any client's cap), then the first bytes of the completion, and
// keeps the connection open. `chunk-ext` sends the normal answer chunked,
// each chunk-size line with two legal extensions (RFC 9112 §7.1.1):
// `;a=1;b="x;y"`.
// The stream faults act on streamed answers ("stream": true) only; a
// plain request they match is answered normally. `stream-cut` sends the
// first events and half of the next, then closes the connection inside
// the chunked body; `stream-error` sends the first events, then an
// `event: error` (a server_error) and ends the body; `stall` sends the
// first events and then nothing, holding the connection open; `split`
// writes every byte of the body as its own write (framing, not terminal).
// `gzip` sends a 200's body (plain or streamed, not a faulted stream) with
// Content-Encoding: gzip (framing, not terminal).
// Several faults may apply to one request: delays add up, `chunked`,
// `chunk-ext`, `slow-body` and `split` change the framing, and the first of
// status / outage / reset-mid-body / hang / malformed-json / oversize /
// stream-cut / stream-error / stall that fires decides the answer.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/error.hpp"

namespace dropd::fake_llm {

enum class FaultKind {
  kStatus,
  kResetMidBody,
  kHang,
  kMalformedJson,
  kChunked,
  kDelay,
  kOutage,
  kSlowBody,
  kOversize,
  kChunkExt,
  kStreamCut,
  kStreamError,
  kStall,
  kSplit,
  kGzip
};

// The Content-Length an `oversize` answer declares: 1 TiB.
inline constexpr std::uint64_t kOversizeContentLength = std::uint64_t{1} << 40;

struct Fault {
  FaultKind kind = FaultKind::kStatus;
  int status = 0;                      // kStatus
  std::chrono::milliseconds delay{0};  // kDelay
  double rate = 1.0;
  std::optional<int> retry_after_s;          // kStatus: adds a Retry-After header
  std::string code;                          // kStatus: the error body's "code"; empty: the status
  std::string match;                         // empty: every request
  std::chrono::milliseconds outage_from{0};  // kOutage: since the fake started
  std::chrono::milliseconds outage_to{0};    // kOutage: exclusive
  std::optional<std::uint64_t> times;        // at most this many firings
};

// Parses one SPEC; kInvalid names the bad part.
[[nodiscard]] Result<Fault> parseFault(std::string_view spec);
// "250ms", "10s", "5m", "1h" (a bare number is milliseconds).
[[nodiscard]] Result<std::chrono::milliseconds> parseDuration(std::string_view text);
// The SPEC again (for logs and --help examples).
[[nodiscard]] std::string describe(const Fault& fault);

// What to do with one request.
struct FaultPlan {
  std::optional<FaultKind> terminal;  // status, reset, hang, malformed, oversize; none = normal
  int status = 0;
  std::optional<int> retry_after_s;
  std::string code;
  std::chrono::milliseconds extra_delay{0};
  bool chunked = false;
  bool chunk_ext = false;  // chunked, with extensions on every chunk
  bool slow_body = false;
  bool split = false;  // streamed answers: one write per byte
  bool gzip = false;   // 200s: Content-Encoding: gzip
  std::string names;   // the faults that fired, "status=500;chunked", for the request log
};

class FaultPicker {
 public:
  explicit FaultPicker(std::uint64_t seed) : rng_(seed) {}
  // `since_start`: how long the fake has run, for outage windows.
  [[nodiscard]] FaultPlan pick(const std::vector<Fault>& faults, std::string_view user_content,
                               std::chrono::milliseconds since_start = {});

 private:
  [[nodiscard]] bool roll(double rate);
  std::mt19937_64 rng_;
  // Firings per fault (by index) for `times`; restarts when the list changes size.
  std::vector<std::uint64_t> fired_;
};

}  // namespace dropd::fake_llm
