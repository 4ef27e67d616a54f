#include "dropd/ops/status_format.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

namespace dropd::ops {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 9> kJobStates = {"discovered", "settling",   "queued",
                                                   "reading",    "extracting", "waiting",
                                                   "sending",    "backoff",    "writing"};

// `doc[key]` as text: strings as they are, numbers and booleans in JSON, the
// rest (null, missing, not an object) as "-".
std::string field(const json& doc, const char* key) {
  if (!doc.is_object()) {
    return "-";
  }
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) {
    return "-";
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  if (it->is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", it->get<double>());
    return buf;
  }
  if (it->is_primitive()) {
    return it->dump();
  }
  return "-";
}

const json& member(const json& doc, const char* key) {
  static const json kNull;  // constant: not mutable state
  if (!doc.is_object()) {
    return kNull;
  }
  const auto it = doc.find(key);
  return it == doc.end() ? kNull : *it;
}

// A path or reason as one readable token: names with spaces, quotes or
// control bytes are printed as JSON strings, so a line stays one line.
std::string printable(std::string text) {
  const bool plain = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f || c == '"' || c == '\\';
  });
  return plain ? text : json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// "15:01:02.345" out of "2026-12-04T15:01:02.345Z"; other text as it is.
std::string clockOf(const std::string& at) {
  const auto t = at.find('T');
  if (t == std::string::npos) {
    return at;
  }
  std::string clock = at.substr(t + 1);
  if (!clock.empty() && clock.back() == 'Z') {
    clock.pop_back();
  }
  return clock;
}

// Column-aligned rows; the first row is the heading. Columns listed in
// `right` are right-aligned (numbers), the last column is never padded.
std::string renderTable(const std::vector<std::vector<std::string>>& rows,
                        const std::vector<bool>& right) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::size_t pad = width[i] - row[i].size();
      const bool last = i + 1 == row.size();
      if (i < right.size() && right[i]) {
        line.append(pad, ' ').append(row[i]);
      } else {
        line.append(row[i]).append(last ? 0 : pad, ' ');
      }
      if (!last) {
        line.append("  ");
      }
    }
    out.append(line).append("\n");
  }
  return out;
}

// "queued 3, sending 2": the job states with jobs in them, or "idle".
std::string jobsInProgress(const json& jobs) {
  std::string out;
  for (const char* state : kJobStates) {
    const json& n = member(jobs, state);
    if (n.is_number() && n.get<double>() > 0) {
      out += (out.empty() ? "" : ", ") + std::string(state) + " " + n.dump();
    }
  }
  return out.empty() ? "idle" : out;
}

std::string pipelinesTable(const json& pipelines) {
  std::vector<std::vector<std::string>> rows = {
      {"PIPELINE", "ENDPOINT", "DONE", "FAILED", "SKIPPED", "FILES/S", "SCAN", "IN PROGRESS"}};
  for (const json& p : pipelines.is_array() ? pipelines : json::array()) {
    const json& scan = member(p, "startup_scan_done");
    rows.push_back({field(p, "name"), field(p, "endpoint"), field(p, "done"), field(p, "failed"),
                    field(p, "skipped"), field(p, "files_per_second"),
                    scan.is_boolean() ? (scan.get<bool>() ? "done" : "scanning") : "-",
                    jobsInProgress(member(p, "jobs"))});
  }
  return renderTable(rows, {false, false, true, true, true, true, false, false});
}

std::string endpointHealth(const json& e) {
  if (member(e, "down").is_boolean() && member(e, "down").get<bool>()) {
    return "down";
  }
  if (member(e, "paused_until").is_string()) {
    return "paused until " + clockOf(field(e, "paused_until")) + ": " + field(e, "pause_reason");
  }
  const std::string breaker = field(e, "breaker");
  return breaker == "closed" || breaker == "-" ? "ok" : "breaker " + breaker;
}

std::string endpointsTable(const json& endpoints) {
  std::vector<std::vector<std::string>> rows = {
      {"ENDPOINT", "IN FLIGHT", "LIMIT", "QUEUED", "RPM LEFT", "TPM LEFT", "HEALTH", "LAST ERROR"}};
  for (const json& e : endpoints.is_array() ? endpoints : json::array()) {
    const std::string last_error = field(e, "last_error");
    rows.push_back({field(e, "name"), field(e, "in_flight"), field(e, "limit"), field(e, "queued"),
                    field(e, "rpm_left"), field(e, "tpm_left"), endpointHealth(e),
                    last_error.empty() ? "-" : last_error});
  }
  return renderTable(rows, {false, true, true, true, true, true, false, false});
}

std::string failuresTable(const json& failures) {
  std::vector<json> list;
  for (const json& f : failures.is_array() ? failures : json::array()) {
    list.push_back(f);
  }
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return field(a, "at") < field(b, "at");  // RFC 3339 UTC sorts as text
  });
  std::vector<std::vector<std::string>> rows = {{"AT", "PIPELINE", "FILE", "KIND", "REASON"}};
  for (const json& f : list) {
    rows.push_back({clockOf(field(f, "at")), field(f, "pipeline"), printable(field(f, "path")),
                    field(f, "kind"), field(f, "message")});
  }
  return renderTable(rows, {});
}

}  // namespace

std::string formatStatusTable(const json& status) {
  const json& i = member(status, "instance");
  std::string out = "dropd " + field(i, "version") + " on " + field(i, "host") + ", pid " +
                    field(i, "pid") + ", " + field(i, "mode") + ", up since " +
                    field(i, "started_at") + "\nconfig " + field(i, "config") + "\n";
  const json& ready = member(status, "ready");
  if (ready.is_boolean() && ready.get<bool>()) {
    out += "ready\n";
  } else {
    out += "NOT READY: " + field(status, "reason") + "\n";
  }
  out += "\n" + pipelinesTable(member(status, "pipelines"));
  out += "\n" + endpointsTable(member(status, "endpoints"));
  const json& failures = member(status, "recent_failures");
  if (failures.is_array() && !failures.empty()) {
    out += "\nRecent failures (oldest first):\n" + failuresTable(failures);
  } else {
    out += "\nNo recent failures.\n";
  }
  return out;
}

std::string formatFileAnswer(const json& file) {
  std::string out = field(file, "sentence") + "\n";
  const auto line = [&out](const char* name, const std::string& value) {
    if (value != "-") {
      out += "  " + std::string(name) + std::string(12 - std::string_view(name).size(), ' ') +
             value + "\n";
    }
  };
  line("pipeline", field(file, "pipeline"));
  line("path", printable(field(file, "path")));
  const std::string since = field(file, "since");
  line("state", field(file, "state") + (since == "-" ? "" : " since " + since));
  const json& waiting = member(file, "waiting_on");
  if (waiting.is_object() && field(waiting, "what") != "none") {
    const std::string until = field(waiting, "until");
    const std::string detail = field(waiting, "detail");
    line("waiting on", field(waiting, "what") + (until == "-" ? "" : " until " + until) +
                           (detail == "-" || detail.empty() ? "" : " (" + detail + ")"));
  }
  line("attempts", field(file, "attempts"));
  line("last error", field(file, "last_error"));
  const json& ledger = member(file, "ledger");
  if (ledger.is_object()) {
    line("ledger", field(ledger, "outcome") + " at " + field(ledger, "at") + ", result " +
                       field(ledger, "result"));
  }
  return out;
}

std::string formatEventLine(std::string_view event, std::string_view data) {
  if (event == "reset") {
    return "-- events were lost: the stream restarts from now";
  }
  const json doc = json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || (event != "job" && event != "endpoint")) {
    return std::string(event) + " " + std::string(data);
  }
  std::string out = clockOf(field(doc, "at")) + " ";
  out += event == "job" ? field(doc, "pipeline") + " " + printable(field(doc, "path"))
                        : "endpoint " + field(doc, "endpoint");
  out += " " + field(doc, "from") + " -> " + field(doc, "to");
  const std::string reason = field(doc, "reason");
  if (reason != "-" && !reason.empty()) {
    out += " (" + reason + ")";
  }
  return out;
}

}  // namespace dropd::ops
