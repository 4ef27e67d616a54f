// `dropd extract FILE...` runs dropd-extract (extract_command.hpp).
#include "dropd/ops/extract_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "dropd/ops/cli.hpp"

namespace dropd::ops {
namespace {

constexpr const char* kHelperName = "dropd-extract";

// dropd-extract beside this executable, else the bare name for PATH.
std::string helperPath() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto beside = self.parent_path() / kHelperName;
    if (::access(beside.c_str(), X_OK) == 0) {
      return beside.string();
    }
  }
  return kHelperName;
}

}  // namespace

std::vector<std::string> extractArguments(const ExtractCommandOptions& options) {
  std::vector<std::string> args;
  if (options.json) {
    args.emplace_back("--json");
  }
  if (options.ocr) {
    args.emplace_back("--ocr");
  }
  if (options.max_pages > 0) {
    args.insert(args.end(), {"--max-pages", std::to_string(options.max_pages)});
  }
  if (options.max_chars > 0) {
    args.insert(args.end(), {"--max-chars", std::to_string(options.max_chars)});
  }
  args.emplace_back("--");  // a file named like a flag stays a file
  args.insert(args.end(), options.files.begin(), options.files.end());
  return args;
}

int runExtractCommand(const ExtractCommandOptions& options) {
  const std::string helper = helperPath();
  std::vector<std::string> args = extractArguments(options);
  args.insert(args.begin(), helper);
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  std::cout.flush();
  ::execvp(helper.c_str(), argv.data());
  std::cerr << "dropd extract: cannot run " << helper << ": " << std::strerror(errno) << '\n';
  return kExitRuntime;
}

}  // namespace dropd::ops
