// /metrics: the Prometheus text format, version 0.0.4 (INTERFACE.md's names
// and the status contract's). Each family is written whole, HELP and TYPE
// first, so `promtool check metrics` accepts it.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "dropd/version.hpp"

#include "ops/histogram.hpp"
#include "ops/status_render.hpp"
#include "ops/waiting_on.hpp"

namespace dropd::ops {
namespace {

using pipeline::JobState;

std::string escapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", v);
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // `labels`: name, value, name, value...
  void sample(std::string_view name, std::initializer_list<std::string_view> labels, double v) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      const auto* it = labels.begin();
      for (std::size_t i = 0; i + 1 < labels.size(); i += 2) {
        out_ += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", it[i], escapeLabel(it[i + 1]));
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(v);
    out_ += '\n';
  }
  void histogram(std::string_view name, std::string_view label, std::string_view value,
                 const Histogram& h) {
    const std::string bucket = std::string(name) + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += h.counts[i];
      const std::string le = number(h.bounds[i]);
      label.empty() ? sample(bucket, {"le", le}, static_cast<double>(cumulative))
                    : sample(bucket, {label, value, "le", le}, static_cast<double>(cumulative));
    }
    const auto count = static_cast<double>(h.count);
    if (label.empty()) {
      sample(bucket, {"le", "+Inf"}, count);
      sample(std::string(name) + "_sum", {}, h.sum);
      sample(std::string(name) + "_count", {}, count);
    } else {
      sample(bucket, {label, value, "le", "+Inf"}, count);
      sample(std::string(name) + "_sum", {label, value}, h.sum);
      sample(std::string(name) + "_count", {label, value}, count);
    }
  }
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr JobState kLiveStates[] = {JobState::kDiscovered, JobState::kSettling, JobState::kQueued,
                                    JobState::kReading,    JobState::kWaiting,  JobState::kSending,
                                    JobState::kBackoff,    JobState::kWriting};

void writeFileCounters(Writer& w, const StatusModel& model, const StatusParts& parts) {
  static const PipelineTally kEmpty{};
  const auto tallyOf = [&](const std::string& name) -> const PipelineTally& {
    const PipelineTally* t = model.pipeline(name);
    return t == nullptr ? kEmpty : *t;
  };
  w.family("dropd_files_discovered_total", "counter", "Files found by scans and events.");
  for (const config::Pipeline& p : parts.config.pipelines) {
    w.sample("dropd_files_discovered_total", {"pipeline", p.name},
             static_cast<double>(tallyOf(p.name).discovered));
  }
  w.family("dropd_files_done_total", "counter", "Files whose result was written.");
  for (const config::Pipeline& p : parts.config.pipelines) {
    w.sample("dropd_files_done_total", {"pipeline", p.name},
             static_cast<double>(tallyOf(p.name).done));
  }
  w.family("dropd_files_failed_total", "counter", "Files whose error record was written.");
  for (const config::Pipeline& p : parts.config.pipelines) {
    for (const auto& [kind, n] : tallyOf(p.name).failed_by_kind) {
      w.sample("dropd_files_failed_total", {"pipeline", p.name, "kind", kind},
               static_cast<double>(n));
    }
  }
  w.family("dropd_queue_depth", "gauge", "Jobs alive, by state.");
  for (const config::Pipeline& p : parts.config.pipelines) {
    for (const JobState s : kLiveStates) {
      w.sample("dropd_queue_depth", {"pipeline", p.name, "state", pipeline::toString(s)},
               static_cast<double>(tallyOf(p.name).in_state[static_cast<std::size_t>(s)]));
    }
  }
  w.family("dropd_bytes_read_total", "counter", "Bytes of files read.");
  for (const config::Pipeline& p : parts.config.pipelines) {
    w.sample("dropd_bytes_read_total", {"pipeline", p.name},
             static_cast<double>(tallyOf(p.name).bytes_read));
  }
}

void writeWaiting(Writer& w, const StatusModel& model, const StatusParts& parts) {
  w.family("dropd_files_waiting", "gauge", "Jobs waiting, by what they wait on.");
  std::map<std::string, double> oldest;
  const MonoTime now = parts.clock.now();
  for (const config::Pipeline& p : parts.config.pipelines) {
    const PipelineTally* t = model.pipeline(p.name);
    std::map<std::string_view, std::uint64_t> by_reason;
    double age = 0;
    if (t != nullptr) {
      for (const auto& [rel, job] : t->jobs) {
        const WaitingOn on = waitingOn(job, parts, p.name, rel, false);
        if (on.what != "none") {
          ++by_reason[on.what];
          age = std::max(age, std::chrono::duration<double>(now - job.since_mono).count());
        }
      }
    }
    for (const auto& [reason, n] : by_reason) {
      w.sample("dropd_files_waiting", {"pipeline", p.name, "reason", reason},
               static_cast<double>(n));
    }
    oldest[p.name] = age;
  }
  w.family("dropd_oldest_waiting_seconds", "gauge", "How long the longest-waiting job waits.");
  for (const auto& [name, age] : oldest) {
    w.sample("dropd_oldest_waiting_seconds", {"pipeline", name}, age);
  }
}

void writeRequests(Writer& w, const StatusModel& model) {
  w.family("dropd_llm_requests_total", "counter", "LLM requests by HTTP status or error.");
  for (const auto& [name, e] : model.endpoints()) {
    for (const auto& [code, n] : e.requests_by_code) {
      w.sample("dropd_llm_requests_total", {"endpoint", name, "code", code},
               static_cast<double>(n));
    }
  }
  w.family("dropd_llm_request_duration_seconds", "histogram", "LLM request latency.");
  for (const auto& [name, e] : model.endpoints()) {
    w.histogram("dropd_llm_request_duration_seconds", "endpoint", name, *e.duration);
  }
  w.family("dropd_llm_time_to_first_token_seconds", "histogram",
           "Time to the first content delta of a streamed answer.");
  for (const auto& [name, e] : model.endpoints()) {
    w.histogram("dropd_llm_time_to_first_token_seconds", "endpoint", name, *e.ttft);
  }
  w.family("dropd_llm_tokens_total", "counter", "Tokens the endpoint reported in usage.");
  for (const auto& [name, e] : model.endpoints()) {
    w.sample("dropd_llm_tokens_total", {"endpoint", name, "kind", "prompt"},
             static_cast<double>(e.prompt_tokens));
    w.sample("dropd_llm_tokens_total", {"endpoint", name, "kind", "completion"},
             static_cast<double>(e.completion_tokens));
  }
  w.family("dropd_llm_retries_total", "counter", "Attempts that failed and will be retried.");
  for (const auto& [name, e] : model.endpoints()) {
    for (const auto& [reason, n] : e.retries_by_reason) {
      w.sample("dropd_llm_retries_total", {"endpoint", name, "reason", reason},
               static_cast<double>(n));
    }
  }
}

void writeEndpoints(Writer& w, const StatusModel& model, const StatusParts& parts) {
  w.family("dropd_llm_in_flight", "gauge", "Requests in flight.");
  for (const auto& d : parts.dispatchers) {
    w.sample("dropd_llm_in_flight", {"endpoint", d->name()}, static_cast<double>(d->inFlight()));
  }
  w.family("dropd_throttle_wait_seconds_total", "counter",
           "Time the queue's head waited for rpm, tpm, Retry-After, a pause or the breaker.");
  for (const auto& d : parts.dispatchers) {
    const EndpointTally* e = model.endpoint(d->name());
    const auto before = e == nullptr ? MonoTime::duration{0} : e->throttle_wait_before;
    w.sample("dropd_throttle_wait_seconds_total", {"endpoint", d->name()},
             std::chrono::duration<double>(before + d->throttleWaitTotal()).count());
  }
  w.family("dropd_endpoint_paused", "gauge", "1 while the endpoint is paused (auth, quota).");
  for (const auto& d : parts.dispatchers) {
    w.sample("dropd_endpoint_paused", {"endpoint", d->name()}, d->pausedUntil() ? 1 : 0);
  }
  w.family("dropd_endpoint_breaker_open", "gauge", "1 while the circuit breaker is not closed.");
  for (const auto& d : parts.dispatchers) {
    const bool open = d->gate().limiter().breaker().state() != throttle::BreakerState::kClosed;
    w.sample("dropd_endpoint_breaker_open", {"endpoint", d->name()}, open ? 1 : 0);
  }
  w.family("dropd_budget_tokens_used", "gauge", "Tokens counted against a budget this UTC day.");
  for (const auto& d : parts.dispatchers) {
    for (const auto& b : d->budgets()) {
      w.sample("dropd_budget_tokens_used", {"scope", b.scope, "name", b.name},
               static_cast<double>(b.used_today));
    }
  }
  w.family("dropd_budget_spent", "gauge", "1 while a budget is spent: its files wait.");
  for (const auto& d : parts.dispatchers) {
    for (const auto& b : d->budgets()) {
      w.sample("dropd_budget_spent", {"scope", b.scope, "name", b.name}, b.spent ? 1 : 0);
    }
  }
  w.family("dropd_budget_cost", "gauge",
           "What this UTC day's tokens cost at budget.cost_per_1k_tokens (its currency).");
  for (const auto& d : parts.dispatchers) {
    for (const auto& b : d->budgets()) {
      if (b.cost_per_1k_tokens) {
        w.sample("dropd_budget_cost", {"scope", b.scope, "name", b.name}, b.cost_today);
      }
    }
  }
}

void writeProcess(Writer& w, const StatusModel& model, const StatusParts& parts,
                  EventCounts events) {
  w.family("dropd_ledger_commit_duration_seconds", "histogram",
           "Time of one batch's records placed, ledger rows committed and sources moved.");
  w.histogram("dropd_ledger_commit_duration_seconds", "", "", model.ledgerCommits());
  w.family("dropd_build_info", "gauge", "The running dropd's version.");
  w.sample("dropd_build_info", {"version", kVersion}, 1);
  // Its name as a label of an info metric, not of every sample: an
  // `instance` label would clash with the one Prometheus gives each target
  // (and be renamed exported_instance), and one series per process keeps
  // the others' cardinality as it is; join on it where needed.
  w.family("dropd_instance_info", "gauge",
           "This dropd's name in a fleet's ledger, host:pid:start; always 1.");
  w.sample("dropd_instance_info", {"holder", parts.instance}, 1);
  if (parts.claims != nullptr) {
    w.family("dropd_fleet_instances", "gauge",
             "Live instances of the fleet, this one included; the endpoints' limits are split "
             "by it.");
    w.sample("dropd_fleet_instances", {}, parts.claims->liveInstances());
    w.family("dropd_fleet_claims_held", "gauge", "Files this instance holds a claim of.");
    w.sample("dropd_fleet_claims_held", {}, static_cast<double>(parts.claims->held()));
  }
  w.family("dropd_ready", "gauge", "1 when /readyz answers 200.");
  w.sample("dropd_ready", {}, readiness(parts).ready ? 1 : 0);
  w.family("dropd_start_time_seconds", "gauge", "When the process started, Unix time.");
  w.sample("dropd_start_time_seconds", {},
           std::chrono::duration<double>(parts.started_at.time_since_epoch()).count());
  w.family("dropd_events_subscribers", "gauge", "Clients reading /events.");
  w.sample("dropd_events_subscribers", {}, static_cast<double>(events.subscribers));
  w.family("dropd_events_dropped_total", "counter", "/events clients dropped for reading slowly.");
  w.sample("dropd_events_dropped_total", {}, static_cast<double>(events.dropped));
}

}  // namespace

std::string metricsText(const StatusModel& model, const StatusParts& parts, EventCounts events) {
  Writer w;
  writeFileCounters(w, model, parts);
  writeWaiting(w, model, parts);
  writeRequests(w, model);
  writeEndpoints(w, model, parts);
  writeProcess(w, model, parts, events);
  return w.take();
}

}  // namespace dropd::ops
