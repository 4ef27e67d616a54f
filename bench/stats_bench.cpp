// Stats throughput over one file (CPU time), page cache warm: reads it with read() in
// 256 KiB chunks through StatsAccumulator, best of N runs. Also times the
// counting kernel alone (no hashing, no read) over the same bytes in memory.
// usage: stats_bench FILE [RUNS=5]; prints `key value` lines for bench/stats.

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "dropd/file/stats.hpp"
#include "dropd/file/stats_kernel.hpp"

namespace {

constexpr std::size_t kChunkBytes = 256 * 1024;

// CPU time of this process (user + system, so read() counts), as `openssl
// speed` measures by default: on a shared, loaded machine wall time would
// mostly measure the other processes.
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
};

double secondsSince(double start) { return Clock::now() - start; }

// Returns the stats of the file read in chunks, or exits on an I/O error.
dropd::file::Stats statsOfFile(const char* path, std::vector<std::byte>& buffer) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror(path);
    std::exit(1);
  }
  dropd::file::StatsAccumulator acc;
  for (;;) {
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      std::perror("read");
      std::exit(1);
    }
    if (n == 0) {
      break;
    }
    acc.feed(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)));
  }
  close(fd);
  return std::move(acc).finish();
}

std::vector<unsigned char> wholeFile(const char* path) {
  std::vector<unsigned char> data;
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    std::exit(1);
  }
  unsigned char chunk[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    data.insert(data.end(), chunk, chunk + n);
  }
  std::fclose(f);
  return data;
}

// SHA-256 alone (OpenSSL EVP, 32 KiB updates) over the same bytes in memory:
// the ceiling for the full stats, measured in the same process and moment.
double bestSha256Seconds(const std::vector<unsigned char>& data, int runs) {
  double best = 1e9;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    for (std::size_t i = 0; i < data.size(); i += 32 * 1024) {
      EVP_DigestUpdate(ctx, data.data() + i, std::min<std::size_t>(32 * 1024, data.size() - i));
    }
    EVP_DigestFinal_ex(ctx, digest, &digest_len);
    EVP_MD_CTX_free(ctx);
    best = std::min(best, secondsSince(start));
  }
  return best;
}

// The same stats with the file already in memory (no read() copy).
double bestMemorySeconds(const std::vector<unsigned char>& data, int runs) {
  double best = 1e9;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    dropd::file::StatsAccumulator acc;
    for (std::size_t i = 0; i < data.size(); i += kChunkBytes) {
      const std::size_t n = std::min(kChunkBytes, data.size() - i);
      acc.feed(std::as_bytes(std::span<const unsigned char>(data.data() + i, n)));
    }
    const dropd::file::Stats stats = std::move(acc).finish();
    best = std::min(best, secondsSince(start));
    if (stats.bytes != data.size()) {
      std::exit(1);
    }
  }
  return best;
}

double bestKernelSeconds(const std::vector<unsigned char>& data, int runs) {
  double best = 1e9;
  std::uint64_t sink = 0;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    bool in_word = false;
    for (std::size_t i = 0; i < data.size(); i += kChunkBytes) {
      const std::size_t n = std::min(kChunkBytes, data.size() - i);
      const auto c = dropd::file::countRegion(data.data() + i, n, in_word);
      in_word = c.in_word;
      sink += c.words + c.lines;
    }
    best = std::min(best, secondsSince(start));
  }
  std::printf("kernel_checksum %llu\n", static_cast<unsigned long long>(sink));
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: stats_bench FILE [RUNS]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<std::byte> buffer(kChunkBytes);
  double best = 1e9;
  dropd::file::Stats stats;
  for (int r = 0; r < runs; ++r) {
    const auto start = Clock::now();
    stats = statsOfFile(argv[1], buffer);
    best = std::min(best, secondsSince(start));
  }
  const double gb = static_cast<double>(stats.bytes) / 1e9;
  std::printf("bytes %llu\nlines %llu\nwords %llu\nchars %llu\nsha256 %s\n",
              static_cast<unsigned long long>(stats.bytes),
              static_cast<unsigned long long>(stats.lines),
              static_cast<unsigned long long>(stats.words),
              static_cast<unsigned long long>(stats.chars), stats.sha256.c_str());
  std::printf("stats_gbps %.3f\n", gb / best);
  const std::vector<unsigned char> data = wholeFile(argv[1]);
  std::printf("sha256_memory_gbps %.3f\n", gb / bestSha256Seconds(data, runs));
  std::printf("stats_memory_gbps %.3f\n", gb / bestMemorySeconds(data, runs));
  std::printf("kernel_gbps %.3f\n", gb / bestKernelSeconds(data, runs));
  std::printf("avx2 %d\n", dropd::file::avx2Supported() ? 1 : 0);
  return 0;
}
