// dropd's entry point: everything happens in ops (command line, daemon).
#include <csignal>

#include "dropd/ops/cli.hpp"

int main(int argc, char** argv) {
  // A write to a connection the peer has reset must fail with EPIPE, not
  // kill the daemon (libuv writes with write(2), which raises SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  return dropd::ops::runCli(argc, argv);
}
