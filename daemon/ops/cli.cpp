#include "dropd/ops/cli.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "dropd/config/load.hpp"
#include "dropd/config/units.hpp"
#include "dropd/ops/daemon.hpp"
#include "dropd/ops/extract_command.hpp"
#include "dropd/ops/logging.hpp"
#include "dropd/ops/requeue_command.hpp"
#include "dropd/ops/state_lock.hpp"
#include "dropd/ops/stats_command.hpp"
#include "dropd/ops/status_command.hpp"
#include "dropd/version.hpp"

namespace dropd::ops {
namespace {

constexpr const char* kDefaultConfigPath = "/etc/dropd/dropd.yaml";

struct Options {
  std::string config_path;
  std::string log_level;
  bool once = false;
  std::string give_up_after;  // a duration; empty: the default
  bool check_config = false;
  std::vector<std::string> stats_files;
  bool requeue_failed = false;
  bool requeue_changed = false;
  bool requeue_dry_run = false;
  std::vector<std::string> requeue_paths;
  StatusCommandOptions status;
  ExtractCommandOptions extract;
};

std::string resolveConfigPath(const Options& options) {
  if (!options.config_path.empty()) {
    return options.config_path;
  }
  if (const char* env = std::getenv("DROPD_CONFIG"); env != nullptr && *env != '\0') {
    return env;
  }
  return kDefaultConfigPath;
}

struct Commands {
  CLI::App* stats = nullptr;
  CLI::App* requeue = nullptr;
  CLI::App* status = nullptr;
  CLI::App* extract = nullptr;
};

void describeStatusCommand(CLI::App& app, Options& options, Commands& commands) {
  commands.status = app.add_subcommand(
      "status", "ask the running daemon (status.listen): a table, its events, or why a FILE waits");
  commands.status->add_flag("--json", options.status.json, "print the server's JSON as it is");
  commands.status->add_flag("--follow", options.status.follow,
                            "stream live events, one a line, until the daemon stops");
  commands.status->add_option("files", options.status.files,
                              "files (in a watched folder, or relative paths) to explain");
  commands.status->add_option("--config", options.config_path, "config file (YAML)");
}

void describeExtractCommand(CLI::App& app, Options& options, Commands& commands) {
  commands.extract = app.add_subcommand(
      "extract",
      "print the text dropd would send for each file (run by dropd-extract: PDF, DOCX, ...)");
  CLI::App& sub = *commands.extract;
  sub.add_flag("--json", options.extract.json, "one JSON line per file, with type and metadata");
  sub.add_option("--max-pages", options.extract.max_pages, "first N pages only");
  sub.add_option("--max-chars", options.extract.max_chars, "keep at most N characters");
  sub.add_flag("--ocr", options.extract.ocr, "OCR images and PDFs without a text layer");
  sub.add_option("files", options.extract.files, "documents to extract")->required();
}

void describeCommandLine(CLI::App& app, Options& options, Commands& commands) {
  app.description(
      "dropd watches folders, sends each finished file to an LLM endpoint, writes one JSON\n"
      "result per file and moves the source to a done or failed folder.\n"
      "Config: --config, else $DROPD_CONFIG, else /etc/dropd/dropd.yaml.\n"
      "Signals: SIGTERM/SIGINT let requests in flight finish, then exit (a second one\n"
      "cancels them); SIGHUP reads the config again (an invalid one is logged and ignored).\n"
      "--once never waits for ever: when every endpoint that still has files stays paused\n"
      "(auth, quota) or down past --give-up-after, it says why and exits 1, files untouched.\n"
      "Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 --once with failures.");
  app.set_version_flag("--version", std::string("dropd ") + kVersion);
  app.add_option("--config", options.config_path, "config file (YAML)");
  app.add_option("--log-level", options.log_level, "overrides log.level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI::Option* once = app.add_flag(
      "--once", options.once, "process what is in the watched folders now, print a summary, exit");
  app.add_option("--give-up-after", options.give_up_after,
                 "--once: when every endpoint that still has files has been paused (auth,\n"
                 "quota) or down for longer than DURATION (e.g. 30s, 2m), log once.give_up\n"
                 "and exit 1, the files left in the inbox. Default: twice the largest\n"
                 "retry.max_backoff of the endpoints in use")
      ->type_name("DURATION")
      ->needs(once)  // the daemon waits for endpoints as long as it takes: refused, not ignored
      ->check([](const std::string& text) {
        const auto parsed = config::parseDuration(text);
        return parsed ? std::string() : parsed.error().message();
      });
  app.add_flag("--check-config", options.check_config,
               "validate the config, print 'config OK: ...' or every error (exit 2)");
  commands.stats = app.add_subcommand("stats", "print each file's stats as one JSON line");
  commands.stats->add_option("files", options.stats_files, "files to measure")->required();
  commands.requeue = app.add_subcommand(
      "requeue", "re-run files: forget their ledger rows (--failed: move failed files back)");
  commands.requeue->add_flag("--failed", options.requeue_failed,
                             "move failed sources back into the watched folder");
  commands.requeue->add_flag("--changed", options.requeue_changed,
                             "re-run the files answered under another prompt version; the "
                             "one argument, if any, is a pipeline's name");
  commands.requeue->add_flag("--dry-run", options.requeue_dry_run,
                             "with --changed: only say how many files it would send");
  commands.requeue->add_option("paths", options.requeue_paths,
                               "relative paths or folders (default: all)");
  commands.requeue->add_option("--config", options.config_path, "config file (YAML)");
  describeStatusCommand(app, options, commands);
  describeExtractCommand(app, options, commands);
}

// Loads the config, printing every error on failure.
bool loadConfig(const std::string& path, config::Config& out) {
  try {
    out = config::loadConfigFile(path);
    return true;
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << '\n';
  } catch (const std::exception& e) {
    std::cerr << path << ": " << e.what() << '\n';
  }
  return false;
}

LogOptions logOptionsFor(const config::Config& cfg, const Options& options) {
  LogOptions log;
  log.journal = stderrIsJournal();
  log.format = cfg.log.format == config::LogFormat::kJson ? LogFormat::kJson : LogFormat::kText;
  const std::string_view level =
      options.log_level.empty() ? config::toString(cfg.log.level) : options.log_level;
  if (!parseLogLevel(level, log.level)) {
    log.level = spdlog::level::info;
  }
  return log;
}

// Checked by the option's validator, so it parses here.
std::optional<std::chrono::milliseconds> giveUpAfter(const Options& options) {
  if (options.give_up_after.empty()) {
    return std::nullopt;
  }
  return config::parseDuration(options.give_up_after).value_or(std::chrono::milliseconds(0));
}

int runMain(const Options& options) {
  const std::string path = resolveConfigPath(options);
  config::Config cfg;
  if (!loadConfig(path, cfg)) {
    return kExitUsage;
  }
  if (options.check_config) {
    std::cout << config::describeSummary(cfg) << '\n';
    return kExitOk;
  }
  // Filled by the Daemon from each config it runs; the logger masks with it.
  const auto mask = std::make_shared<config::SecretMask>();
  mask->addFrom(cfg);
  LogOptions log_options = logOptionsFor(cfg, options);
  log_options.mask = mask;
  const auto logger = makeLogger(log_options);
  // Before anything in the state_dir is touched, and held until exit.
  const auto state_lock = StateLock::acquire(cfg.state_dir);
  if (!state_lock) {
    logger->error("state_dir.lock_failed error={:?}", state_lock.error().message());
    return kExitRuntime;
  }
  // SIGHUP reads the same file again (INTERFACE.md, Reload).
  const auto reload = [path, options]() -> Result<Daemon::Reloaded> {
    try {
      Daemon::Reloaded next{config::loadConfigFile(path)};
      next.log_level = logOptionsFor(next.config, options).level;
      return next;
    } catch (const std::exception& e) {
      return makeError(ErrorCode::kInvalid, e.what());  // ConfigError: file:line:col and key
    }
  };
  try {
    Daemon daemon(std::move(cfg), *logger, reload, mask);
    return daemon.run(options.once, giveUpAfter(options));
  } catch (const std::exception& e) {
    logger->error("daemon.failed error={:?}", e.what());
    return kExitRuntime;
  }
}

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app{"dropd"};
  Options options;
  Commands commands;
  describeCommandLine(app, options, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (commands.stats->parsed()) {
    return runStatsCommand(options.stats_files, std::cout, std::cerr);
  }
  if (commands.extract->parsed()) {
    return runExtractCommand(options.extract);
  }
  if (commands.requeue->parsed()) {
    config::Config cfg;
    if (!loadConfig(resolveConfigPath(options), cfg)) {
      return kExitUsage;
    }
    if (options.requeue_changed) {
      if (options.requeue_failed || options.requeue_paths.size() > 1) {
        std::cerr << "dropd requeue --changed takes at most one pipeline name, and no --failed\n";
        return kExitUsage;
      }
      const std::string only = options.requeue_paths.empty() ? "" : options.requeue_paths[0];
      return runRequeueChanged(cfg, only, options.requeue_dry_run, std::cout, std::cerr);
    }
    if (options.requeue_dry_run) {
      std::cerr << "dropd requeue: --dry-run goes with --changed\n";
      return kExitUsage;
    }
    return runRequeueCommand(cfg, options.requeue_failed, options.requeue_paths, std::cout,
                             std::cerr);
  }
  if (commands.status->parsed()) {
    config::Config cfg;
    if (!loadConfig(resolveConfigPath(options), cfg)) {
      return kExitUsage;
    }
    options.status.cwd = std::filesystem::current_path();
    return runStatusCommand(cfg, options.status, std::cout, std::cerr);
  }
  return runMain(options);
}

}  // namespace dropd::ops
