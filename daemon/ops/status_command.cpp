#include "dropd/ops/status_command.hpp"

#include <nlohmann/json.hpp>
#include <uv.h>

#include "dropd/ops/cli.hpp"
#include "dropd/ops/status_format.hpp"

#include "status_client.hpp"

namespace dropd::ops {
namespace {

using nlohmann::json;

// The one line saying why the daemon could not be asked.
std::string whyUnreachable(const StatusTarget& where, const Error& error) {
  if (error.code == ErrorCode::kSystem && error.sys == UV_ECONNREFUSED) {
    return "dropd is not running (nothing listens on " + where.authority() + ")";
  }
  return "cannot reach dropd's status server at " + where.authority() + ": " + error.message();
}

// An answer's body as sent (for --json) and parsed.
struct JsonAnswer {
  std::string body;
  json doc;
};

// GET `target` and parse its JSON body; on failure prints why to `err`.
// `accept_404` lets a /files "unknown" answer through.
std::optional<JsonAnswer> getJson(const StatusTarget& where, const std::string& target,
                                  std::ostream& err, bool accept_404) {
  const auto answer = fetchStatus(where, target);
  if (!answer) {
    err << "dropd status: " << whyUnreachable(where, answer.error()) << '\n';
    return std::nullopt;
  }
  if (answer->status == 401) {
    err << "dropd status: " << where.authority()
        << " refused the request (401): check status.token in the config\n";
    return std::nullopt;
  }
  if (answer->status != 200 && !(accept_404 && answer->status == 404)) {
    err << "dropd status: GET " << target << " from " << where.authority() << ": HTTP "
        << answer->status << " " << answer->body.substr(0, 200) << '\n';
    return std::nullopt;
  }
  json doc = json::parse(answer->body, nullptr, false);
  if (doc.is_discarded()) {
    err << "dropd status: GET " << target << " from " << where.authority()
        << ": the answer is not JSON\n";
    return std::nullopt;
  }
  std::string body = std::move(answer->body);
  if (!body.ends_with('\n')) {
    body.push_back('\n');
  }
  return JsonAnswer{std::move(body), std::move(doc)};
}

int showStatus(const StatusTarget& where, bool raw, std::ostream& out, std::ostream& err) {
  const auto answer = getJson(where, "/status", err, false);
  if (!answer) {
    return kExitRuntime;
  }
  out << (raw ? answer->body : formatStatusTable(answer->doc));
  return kExitOk;
}

// Each FILE in turn; a FILE nobody knows still lets the others be asked.
int showFiles(const config::Config& cfg, const StatusTarget& where,
              const StatusCommandOptions& options, std::ostream& out, std::ostream& err) {
  int code = kExitOk;
  for (const std::string& arg : options.files) {
    const auto query = resolveStatusFile(cfg, arg, options.cwd);
    if (!query) {
      err << "dropd status: " << arg << " is not inside a watched folder of the config\n";
      code = kExitUsage;
      continue;
    }
    const auto answer = getJson(where, filesTarget(*query), err, true);
    if (!answer) {
      return kExitRuntime;  // the daemon is unreachable: the next FILE would be too
    }
    out << (options.json ? answer->body : formatFileAnswer(answer->doc));
    const bool unknown = answer->doc.is_object() && answer->doc.value("state", json()) == "unknown";
    if (unknown && code == kExitOk) {
      code = kExitRuntime;
    }
  }
  return code;
}

}  // namespace

int runStatusCommand(const config::Config& cfg, const StatusCommandOptions& options,
                     std::ostream& out, std::ostream& err) {
  if (!cfg.status) {
    err << "dropd status: no status server configured (status.listen)\n";
    return kExitUsage;
  }
  const StatusTarget where = statusTargetOf(*cfg.status);
  if (!options.files.empty()) {
    return showFiles(cfg, where, options, out, err);
  }
  if (!options.follow) {
    return showStatus(where, options.json, out, err);
  }
  const Status followed = followEvents(where, options.json, out);
  if (!followed) {
    err << "dropd status: " << whyUnreachable(where, followed.error()) << '\n';
    return kExitRuntime;
  }
  err << "dropd status: the daemon closed the event stream\n";
  return kExitOk;
}

}  // namespace dropd::ops
