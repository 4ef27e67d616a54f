#pragma once

// The two modes of the dropd-extract program (docs/extract.md). Serve mode
// is what dropd runs: Request frames in, one Reply frame out per Request, in
// order, until EOF. Command mode is `dropd extract FILE...`: the text (or
// one JSON line per file) on stdout. Both bound themselves per file with
// setrlimit; these functions are for the program's one thread only.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "dropd/extract/protocol.hpp"

namespace dropd::extractor {

struct HelperLimits {
  std::uint64_t cpu_seconds = 60;           // per file: RLIMIT_CPU soft = used + this
  std::uint64_t memory_bytes = 1ull << 30;  // RLIMIT_AS for the whole process; 0: none
};

// Sets RLIMIT_AS (once) and RLIMIT_CORE 0. Under AddressSanitizer, whose
// shadow memory needs terabytes of address space, RLIMIT_AS is left alone.
// Returns an error line for stderr, empty when all is set.
[[nodiscard]] std::string limitProcess(const HelperLimits& limits);

// Lets the next file use `cpu_seconds` more CPU time; past it the kernel
// sends SIGXCPU, which ends the process (the daemon replaces it).
void limitNextFile(std::uint64_t cpu_seconds);

// Serve mode. Returns 0 at EOF on `in_fd`, 2 when a frame does not decode
// (the daemon broke the protocol), 1 when `out_fd` cannot be written.
[[nodiscard]] int serve(int in_fd, int out_fd, const HelperLimits& limits);

struct CommandOptions {
  bool json = false;
  extract::Options extract;
  std::vector<std::string> files;
};

// Command mode. Returns 0 when every file was extracted, 1 otherwise (each
// failure is one line on `err`, or a JSON line with "ok":false on `out`).
[[nodiscard]] int runCommand(const CommandOptions& options, const HelperLimits& limits,
                             std::ostream& out, std::ostream& err);

}  // namespace dropd::extractor
