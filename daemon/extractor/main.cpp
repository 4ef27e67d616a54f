// dropd-extract: the helper process dropd runs to extract documents, and the
// engine behind `dropd extract FILE...` (docs/extract.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "dropd/extractor/helper.hpp"

namespace {

struct Flags {
  bool serve = false;
  dropd::extractor::HelperLimits limits;
  dropd::extractor::CommandOptions command;
};

void describe(CLI::App& app, Flags& flags) {
  app.description(
      "dropd-extract reads documents (text, PDF, DOCX/XLSX/PPTX, ODT/ODS/ODP, EPUB, HTML,\n"
      "e-mail, and with --ocr PNG/JPEG/TIFF) and prints their text.\n"
      "With no FILE (or --serve) it serves dropd: length-prefixed JSON requests on stdin,\n"
      "one reply per request on stdout, until EOF.\n"
      "Each file gets --cpu-seconds of CPU time (SIGXCPU ends the process past it); the\n"
      "process's address space is capped at --memory bytes.\n"
      "Exit codes: 0 every file extracted, 1 a file failed or was skipped, 2 usage or protocol\n"
      "error.");
  app.add_flag("--serve", flags.serve, "serve dropd on stdin/stdout (the default without FILE)");
  app.add_option("--cpu-seconds", flags.limits.cpu_seconds, "CPU seconds per file (0: no limit)")
      ->capture_default_str();
  app.add_option("--memory", flags.limits.memory_bytes,
                 "address-space limit in bytes (0: no limit)")
      ->capture_default_str();
  app.add_flag("--json", flags.command.json, "one JSON line per file, with the metadata");
  app.add_option("--max-pages", flags.command.extract.max_pages, "first N pages only (0: all)");
  app.add_option("--max-chars", flags.command.extract.max_chars,
                 "keep at most N characters (0: all)");
  app.add_flag("--ocr", flags.command.extract.ocr,
               "OCR images and PDFs without a text layer (Tesseract)");
  app.add_option("--ocr-language", flags.command.extract.ocr_languages,
                 "Tesseract language (repeatable; default eng)")
      ->allow_extra_args(false);  // one value per flag: the files that follow stay files
  app.add_option("--format", flags.command.extract.formats,
                 "accept only this format (repeatable: text, pdf, docx, html, ...)")
      ->allow_extra_args(false);
  app.add_option("files", flags.command.files, "documents to extract");
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Tesseract's OpenMP threads would each take a core; dropd runs a pool of
  // helpers instead.
  ::setenv("OMP_THREAD_LIMIT", "1", 0);
  CLI::App app{"dropd-extract"};
  Flags flags;
  describe(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (const std::string error = dropd::extractor::limitProcess(flags.limits); !error.empty()) {
    std::cerr << "dropd-extract: " << error << '\n';
  }
  if (flags.serve || flags.command.files.empty()) {
    return dropd::extractor::serve(STDIN_FILENO, STDOUT_FILENO, flags.limits);
  }
  return dropd::extractor::runCommand(flags.command, flags.limits, std::cout, std::cerr);
}
