"""Checks docs/alerts.yml and docs/grafana-dashboard.json against the metrics.

- docs/operations.md's "## Metrics" table lists exactly the status
  server's metrics (the issue 12 contract, repeated below);
- `promtool check rules docs/alerts.yml` accepts the rules;
- the dashboard is valid JSON, every panel has a query, panel ids are
  unique, and every dropd_* name in the rules and the dashboard is one of
  the table's (a histogram's _bucket, _sum and _count included).

Python 3 stdlib and promtool (Debian's prometheus package) only.
"""

import json
import os
import re
import subprocess
import sys

SOURCE_DIR = os.environ.get(
    "DROPD_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOCS = os.path.join(SOURCE_DIR, "docs")

# The contract's names (INTERFACE.md plus what issues 12, 15 and 16 added).
CONTRACT = {
    "dropd_files_discovered_total", "dropd_files_done_total", "dropd_files_failed_total",
    "dropd_queue_depth", "dropd_bytes_read_total", "dropd_llm_requests_total",
    "dropd_llm_request_duration_seconds", "dropd_llm_in_flight", "dropd_llm_tokens_total",
    "dropd_throttle_wait_seconds_total", "dropd_build_info", "dropd_files_waiting",
    "dropd_oldest_waiting_seconds", "dropd_ledger_commit_duration_seconds",
    "dropd_llm_retries_total", "dropd_endpoint_paused", "dropd_endpoint_breaker_open",
    "dropd_ready", "dropd_start_time_seconds", "dropd_events_subscribers",
    "dropd_events_dropped_total", "dropd_llm_time_to_first_token_seconds",
    "dropd_budget_tokens_used", "dropd_budget_spent", "dropd_budget_cost",
    "dropd_instance_info", "dropd_fleet_instances", "dropd_fleet_claims_held",
}
HISTOGRAMS = {"dropd_llm_request_duration_seconds", "dropd_ledger_commit_duration_seconds",
              "dropd_llm_time_to_first_token_seconds"}
NAME = re.compile(r"\bdropd_[a-z0-9_]+")

problems = []


def read(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        return f.read()


def documented_metrics():
    text = read("operations.md")
    m = re.search(r"^## Metrics\n(.*?)(?=^## )", text, re.S | re.M)
    if not m:
        problems.append("docs/operations.md has no '## Metrics' section")
        return set()
    return set(re.findall(r"^\| `(dropd_[a-z0-9_]+)`", m.group(1), re.M))


def unknown_names(text):
    """dropd_* names in `text` that are not metrics (histogram series mapped to their base)."""
    out = set()
    for name in NAME.findall(text):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in CONTRACT or (base in HISTOGRAMS and base != name):
            continue
        out.add(name)
    return out


def check_table():
    table = documented_metrics()
    if table != CONTRACT:
        problems.append(f"operations.md's metrics differ from the contract: "
                        f"missing {sorted(CONTRACT - table)}, extra {sorted(table - CONTRACT)}")


def check_rules():
    path = os.path.join(DOCS, "alerts.yml")
    run = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    if run.returncode != 0:
        problems.append(f"promtool check rules failed:\n{run.stdout}{run.stderr}")
    print(run.stdout.strip())
    bad = unknown_names(read("alerts.yml"))
    if bad:
        problems.append(f"alerts.yml uses names that are not metrics: {sorted(bad)}")


def check_dashboard():
    try:
        dash = json.loads(read("grafana-dashboard.json"))
    except ValueError as e:
        problems.append(f"grafana-dashboard.json is not JSON: {e}")
        return
    panels = dash.get("panels", [])
    ids = [p.get("id") for p in panels]
    if not panels or len(set(ids)) != len(ids):
        problems.append(f"dashboard panels missing or with duplicate ids: {ids}")
    exprs = []
    for p in panels:
        targets = [t.get("expr", "") for t in p.get("targets", [])]
        if not targets or not all(targets):
            problems.append(f"panel {p.get('title')!r} has no query")
        exprs += targets
    used = set(NAME.findall("\n".join(exprs)))
    bad = unknown_names("\n".join(exprs))
    if bad:
        problems.append(f"the dashboard uses names that are not metrics: {sorted(bad)}")
    print(f"dashboard: {len(panels)} panels, {len(used)} metric names")


check_table()
check_rules()
check_dashboard()
if problems:
    print("FAIL docs: " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print("PASS docs: alerts and dashboard")
