// The main() of a fuzz target in the normal (gcc) build, where libFuzzer is
// not available: runs LLVMFuzzerTestOneInput over every file of the seed
// corpus folders given on the command line, then over deterministic
// pseudo-random inputs (a fixed seed, so a failure reproduces). Half of those
// are seed files with a few bytes flipped, inserted or dropped, since purely
// random bytes rarely get past a parser's first check. A broken invariant
// aborts (fuzz_check.hpp), which fails the ctest; the input that broke it is
// first written to replay-crash.bin in the working folder, to be replayed
// with `fuzz_<name> --runs 0 replay-crash.bin` or added to the corpus.
//
// Usage: fuzz_<name> [--runs N] <corpus folder or file>...

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kDefaultRuns = 4000;
constexpr std::size_t kMaxRandomBytes = 4096;
constexpr std::uint64_t kSeed = 0x5eed'd20b'f022;

// The input being run, for the abort handler. The one global here: a signal
// handler can reach nothing else.
const Bytes* g_current_input = nullptr;

// Async-signal-safe: open/write/close only.
void saveCurrentInput(int signal_number) {
  if (g_current_input != nullptr) {
    const int fd = ::open("replay-crash.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      const ssize_t written = ::write(fd, g_current_input->data(), g_current_input->size());
      (void)written;
      ::close(fd);
    }
    static constexpr char kNote[] = "replay: input saved to replay-crash.bin\n";
    const ssize_t noted = ::write(STDERR_FILENO, kNote, sizeof(kNote) - 1);
    (void)noted;
  }
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

Bytes readFile(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  return Bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void addSeeds(const std::filesystem::path& path, std::vector<Bytes>& seeds) {
  if (!std::filesystem::is_directory(path)) {
    seeds.push_back(readFile(path));
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());  // directory order is not stable across machines
  for (const auto& file : files) {
    seeds.push_back(readFile(file));
  }
}

Bytes randomBytes(std::mt19937_64& rng) {
  Bytes out(rng() % kMaxRandomBytes);
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(rng());
  }
  return out;
}

// A seed with 1..8 single-byte edits; edits favour bytes that parsers care
// about (digits, separators, high bytes) over uniform noise.
Bytes mutate(Bytes input, std::mt19937_64& rng) {
  static constexpr char kInteresting[] =
      "0123456789 \t\r\n:/.-,;=\"\\%@[]{}#?\x80\xbf\xc2\xe0\xed\xf0\xf4\xff";
  const std::size_t edits = 1 + rng() % 8;
  for (std::size_t i = 0; i < edits; ++i) {
    const std::size_t at = input.empty() ? 0 : rng() % (input.size() + 1);
    const auto byte = static_cast<std::uint8_t>(
        rng() % 2 == 0 ? rng() : kInteresting[rng() % (sizeof(kInteresting) - 1)]);
    switch (rng() % 3) {
      case 0:
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), byte);
        break;
      case 1:
        if (at < input.size()) {
          input[at] = byte;
        }
        break;
      default:
        if (at < input.size()) {
          input.erase(input.begin() + static_cast<std::ptrdiff_t>(at));
        }
        break;
    }
  }
  return input;
}

void runOne(const Bytes& input) {
  // data() of an empty vector may be null; libFuzzer never passes null.
  static const std::uint8_t kEmpty = 0;
  g_current_input = &input;
  LLVMFuzzerTestOneInput(input.empty() ? &kEmpty : input.data(), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGABRT, saveCurrentInput);
  ::signal(SIGSEGV, saveCurrentInput);
  ::signal(SIGILL, saveCurrentInput);  // __builtin_trap()
  std::size_t runs = kDefaultRuns;
  std::vector<Bytes> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::strtoull(argv[++i], nullptr, 10);
    } else {
      addSeeds(arg, seeds);
    }
  }
  for (const Bytes& seed : seeds) {
    runOne(seed);
  }
  std::mt19937_64 rng{kSeed};
  for (std::size_t i = 0; i < runs; ++i) {
    if (!seeds.empty() && i % 2 == 0) {
      runOne(mutate(seeds[rng() % seeds.size()], rng));
    } else {
      runOne(randomBytes(rng));
    }
  }
  std::printf("replay: %zu seed files, %zu generated inputs, all invariants held\n", seeds.size(),
              runs);
  return 0;
}
