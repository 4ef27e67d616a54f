#!/usr/bin/python3
"""The status server (ops-contract.md): /healthz, /readyz, /status, /metrics
and the token rule, against a real dropd and dropd-fake-llm on loopback.

(a) a non-loopback status.listen without a token: --check-config exits 2
    naming the key;
(b) 8 files: 5 plain, one answered 500 once (retried, then done), one
    answered 400 (failed, kind http), one binary (skipped): /status and
    /metrics count exactly those, /metrics passes `promtool check metrics`;
(c) a token: a request without it gets 401 with WWW-Authenticate: Bearer,
    with the header or ?token= 200; an endpoint answering 401 once pauses:
    /readyz says 503 naming the pause, then 200 once the probe succeeds.
"""

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401


def get(port, path, headers=None):
    """One GET on 127.0.0.1:port; returns (status, headers dict lower-cased, body str)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        body = r.read().decode("utf-8", "replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        conn.close()


def status_port(proc):
    line = proc.stderr.lines[proc.stderr.wait_for(r"status\.listening address=", 20)]
    m = re.search(r"status\.listening address=127\.0\.0\.1:(\d+)", line)
    check(m is not None, f"no port in {line!r}")
    return int(m.group(1))


def add_status(config, listen, token_env=None):
    with open(config, "a", encoding="utf-8") as f:
        f.write(f"status:\n  listen: {yq(listen)}\n")
        if token_env:
            f.write(f"  token: {{ env: {token_env} }}\n")


def metric_values(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def test_refused_without_token(work):
    fake_url = "http://127.0.0.1:1/v1/chat/completions"
    config = os.path.join(work, "open.yaml")
    write_config(config, work, fake_url)
    add_status(config, "0.0.0.0:9464")
    r = run_dropd(["--config", config, "--check-config"])
    err = r.stderr.decode() + r.stdout.decode()
    check(r.returncode == 2, f"--check-config exited {r.returncode}: {err}")
    check("status.listen" in err and "open.yaml:" in err, f"the key and file not named: {err}")


def test_counts(work):
    fake = Fake(work, faults=["status=500,match=RETRYME,times=1", "status=400,match=BADFILE"])
    dropd = None
    try:
        config = os.path.join(work, "counts.yaml")
        dirs = write_config(config, work, fake.url, retry=("3", "50ms", "200ms"),
                            settle="100ms")  # never read a file before its bytes are in
        add_status(config, "127.0.0.1:0")
        files = {f"plain{i}.txt": f"plain file number {i}\n".encode() for i in range(5)}
        files["retry.txt"] = b"RETRYME please\n"
        files["bad.txt"] = b"BADFILE here\n"
        write_files(dirs["inbox"], files)
        with open(os.path.join(dirs["inbox"], "blob.bin"), "wb") as f:
            f.write(b"\x00\x01\x02binary\x00" * 50)
        dropd = start_dropd(["--config", config])
        port = status_port(dropd)
        check(get(port, "/healthz")[0:3:2] == (200, '{"ok":true}\n'), "healthz")

        def finished():
            st = json.loads(get(port, "/status")[2])
            p = st["pipelines"][0]
            return st if p["done"] + p["failed"] + p["skipped"] == 8 else None
        st = wait_until(finished, 30, "8 files finished in /status")
        p = st["pipelines"][0]
        check((p["done"], p["failed"], p["skipped"]) == (6, 1, 1), f"counts {p}")
        check(p["name"] == "e2e" and p["endpoint"] == "fake" and p["startup_scan_done"], f"{p}")
        check(set(p["jobs"]) == {"discovered", "settling", "queued", "reading", "extracting",
                                 "waiting",
                                 "sending", "backoff", "writing"}, f"job states {p['jobs']}")
        check(st["ready"] is True and st["reason"] is None, f"ready {st['ready']} {st['reason']}")
        check(st["instance"]["config"] == os.path.abspath(config), f"{st['instance']}")
        check(st["instance"]["mode"] == "daemon" and st["instance"]["pid"] == dropd.pid, "instance")
        # Its name in a fleet's ledger (host:pid:start), as daemon.start says it.
        started = dropd.stderr.lines[dropd.stderr.wait_for(r"daemon\.start ", 5)]
        name = re.search(r"instance=(\S+)", started).group(1)
        check(st["instance"]["name"] == name and name.split(":")[1] == str(dropd.pid),
              f"instance name {st['instance'].get('name')!r}, daemon.start says {name!r}")
        check("fleet" not in st, "no fleet section without ledger.backend: postgres")
        check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", st["instance"]["started_at"]),
              f"started_at {st['instance']['started_at']}")
        e = st["endpoints"][0]
        check(e["name"] == "fake" and e["breaker"] == "closed" and e["rpm_left"] is None, f"{e}")
        kinds = sorted((f["path"], f["kind"]) for f in st["recent_failures"])
        check(kinds == [("bad.txt", "http"), ("blob.bin", "skipped")], f"failures {kinds}")
        bad = [f for f in st["recent_failures"] if f["path"] == "bad.txt"][0]
        check("400" in bad["message"], f"the failure's message: {bad}")

        code, headers, text = get(port, "/metrics")
        check(code == 200 and headers["content-type"].startswith("text/plain; version=0.0.4"),
              f"metrics {code} {headers}")
        promtool = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        check(promtool.returncode == 0, f"promtool: {promtool.stdout.decode()}\n{text}")
        m = metric_values(text)
        want = {
            'dropd_files_discovered_total{pipeline="e2e"}': 8,
            'dropd_files_done_total{pipeline="e2e"}': 6,
            'dropd_files_failed_total{pipeline="e2e",kind="http"}': 1,
            'dropd_files_failed_total{pipeline="e2e",kind="skipped"}': 1,
            'dropd_llm_requests_total{endpoint="fake",code="200"}': 6,
            'dropd_llm_requests_total{endpoint="fake",code="500"}': 1,
            'dropd_llm_requests_total{endpoint="fake",code="400"}': 1,
            'dropd_llm_retries_total{endpoint="fake",reason="http"}': 1,
            'dropd_llm_request_duration_seconds_count{endpoint="fake"}': 8,
            'dropd_queue_depth{pipeline="e2e",state="waiting"}': 0,
            'dropd_ready': 1,
            'dropd_llm_in_flight{endpoint="fake"}': 0,
            f'dropd_instance_info{{holder="{name}"}}': 1,
        }
        for key, value in want.items():
            check(m.get(key) == value, f"{key} = {m.get(key)}, want {value}")
        plain_bytes = sum(len(v) for v in files.values())
        check(m['dropd_bytes_read_total{pipeline="e2e"}'] >= plain_bytes, "bytes read")
        check(m['dropd_llm_tokens_total{endpoint="fake",kind="prompt"}'] > 0, "prompt tokens")
        check(m['dropd_ledger_commit_duration_seconds_count'] >= 1, "ledger commits timed")
        check(get(port, "/nope")[0] == 404, "unknown path")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/status", body=b"")
        check(conn.getresponse().status == 405, "POST is refused")
        conn.close()
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()


def test_token_and_readiness(work):
    # The 401 quotes the request's Authorization: the answers must mask it.
    fake = Fake(work, faults=["status=401,times=1"], extra=["--echo-credentials"])
    dropd = None
    try:
        config = os.path.join(work, "token.yaml")
        dirs = write_config(config, work, fake.url, retry=("3", "50ms", "1500ms"),
                            api_key_env="DROPD_E2E_KEY")
        add_status(config, "127.0.0.1:0", token_env="DROPD_STATUS_TOKEN")
        write_files(dirs["inbox"], {"one.txt": b"a file to send\n"})
        api_key = "sk-status-echo-" + secrets.token_hex(12)
        env = dict(os.environ, DROPD_STATUS_TOKEN="s3cret-token", DROPD_E2E_KEY=api_key)
        dropd = start_dropd(["--config", config], env=env)
        port = status_port(dropd)
        code, headers, _ = get(port, "/healthz")
        check(code == 401 and headers.get("www-authenticate") == "Bearer", f"no token: {code}")
        check(get(port, "/status", {"Authorization": "Bearer wrong"})[0] == 401, "wrong token")
        auth = {"Authorization": "Bearer s3cret-token"}
        check(get(port, "/healthz", auth)[0] == 200, "with the header")
        check(get(port, "/healthz?token=s3cret-token")[0] == 200, "with ?token=")

        def paused():
            code, _, body = get(port, "/readyz", auth)
            return (code, json.loads(body)) if code == 503 and "paused" in body else None
        code, body = wait_until(paused, 20, "/readyz 503 while the endpoint is paused")
        check(body["ready"] is False and body["reason"].startswith("endpoint fake paused: "),
              f"readyz {body}")
        status_body = get(port, "/status", auth)[2]
        check(api_key not in body["reason"] and api_key not in status_body,
              "the echoed key reaches neither /readyz nor /status")
        check("[redacted endpoints.fake.api_key]" in body["reason"],
              f"the echo arrived and was masked: {body['reason']!r}")
        wait_until(lambda: get(port, "/readyz", auth)[0] == 200, 20, "/readyz 200 after the probe")
        check(json.loads(get(port, "/readyz", auth)[2]) == {"ready": True}, "readyz body")
        wait_until(lambda: os.path.exists(os.path.join(dirs["outbox"], "one.txt.json")), 20,
                   "the file's result")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
        check("s3cret-token" not in dropd.stderr.text(), "the token is never logged")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()


def main():
    require_binaries()
    for name, fn in (("refused", test_refused_without_token), ("counts", test_counts),
                     ("token", test_token_and_readiness)):
        with tempfile.TemporaryDirectory() as work:
            note(f"-- {name}")
            fn(work)


if __name__ == "__main__":
    run_main("test_status_server", main)
