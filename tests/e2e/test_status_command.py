#!/usr/bin/python3
"""`dropd status` against a running daemon, and its two errors.

Checks: no `status:` in the config exits 2 naming status.listen; nothing
listening exits 1 naming the address. With the daemon running (one
request per minute allowed, so a second file waits on the RPM bucket):
the table shows the pipeline with done 1; --json parses with done 1;
`dropd status FILE` is test_status_files', `--follow` test_status_events'.
"""

import json
import os
import re
import signal
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401


def status(cfg, *args, cwd=None):
    res = run_dropd(["status", "--config", cfg] + list(args), cwd=cwd, timeout=30)
    return res.returncode, res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")


def config(tmp, url, port=None):
    os.makedirs(tmp, exist_ok=True)
    cfg = os.path.join(tmp, "dropd.yaml")
    dirs = write_config(cfg, tmp, url, max_in_flight=1)
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("limits: { max_in_flight: 1 }",
                        "limits: { max_in_flight: 1, requests_per_minute: 1 }")
    if port is not None:
        text += f'status: {{ listen: "127.0.0.1:{port}" }}\n'
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    os.makedirs(dirs["inbox"], exist_ok=True)
    return cfg, dirs


def scenario_errors(tmp, url):
    cfg, _ = config(tmp, url)
    rc, _, err = status(cfg)
    check(rc == 2 and "no status server configured (status.listen)" in err, f"no status: {rc} {err!r}")
    port = closed_port()
    cfg, _ = config(tmp, url, port)
    rc, _, err = status(cfg)
    check(rc == 1 and f"dropd is not running (nothing listens on 127.0.0.1:{port})" in err,
          f"not running: {rc} {err!r}")
    note("no status configured exits 2; nothing listening exits 1 naming the address")


def scenario_running(tmp, fake):
    port = closed_port()
    cfg, dirs = config(tmp, fake.url, port)
    dropd = follow = None
    try:
        dropd = start_dropd(["--config", cfg], cwd=tmp)
        wait_until(lambda: status(cfg)[0] == 0, 15, "dropd status to answer")
        write_files(dirs["inbox"], {"a.txt": b"first file\n"})
        wait_until(lambda: os.path.exists(os.path.join(dirs["outbox"], "a.txt.json")), 15, "a.txt done")
        wait_until(lambda: re.search(r"^e2e\s+fake\s+1\s", status(cfg)[1], re.M), 10,
                   "the table to show pipeline e2e with done 1")
        rc, out, _ = status(cfg, "--json")
        doc = json.loads(out)
        check(rc == 0 and doc["pipelines"][0]["done"] == 1, f"--json: {rc} {out[:300]!r}")
        note("the table and --json show done 1")

        dropd.signal(signal.SIGTERM)
        dropd.wait(60)
    finally:
        for proc in (follow, dropd):
            if proc:
                proc.kill()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-status-") as tmp:
        fake = Fake(tmp)
        try:
            scenario_errors(os.path.join(tmp, "errors"), fake.url)
            scenario_running(os.path.join(tmp, "running"), fake)
        finally:
            fake.stop()


if __name__ == "__main__":
    run_main("test_status_command", main)
