// dropd's entry point: everything happens in ops (command line, daemon).
#include "dropd/ops/cli.hpp"

int main(int argc, char** argv) { return dropd::ops::runCli(argc, argv); }
