#!/usr/bin/python3
"""No configured secret reaches a log line, a record or the ledger, even when
the endpoint echoes it (issue 10, case 5).

dropd-fake-llm --echo-credentials quotes the request's Authorization and
X-Api-Key headers whole in every answer: error bodies (500s that are retried,
429s, a 400 that fails one file, 401s that pause the endpoint) and the
completions' content. dropd runs at trace level, once with --once and once as
a daemon. Then every byte dropd wrote (its stdout and stderr, every record,
the ledger's files, done/ and failed/) is searched for both secrets, raw and
JSON-escaped: none may be there, and the redaction markers must be, so the
echo did arrive and was masked rather than lost. Both secrets come from
{env:}: the api_key and, since issue 13, the X-Api-Key header's value.
"""

import json
import os
import secrets
import signal
import sqlite3
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

API_KEY = "sk-e2e-echo-" + secrets.token_hex(12)
HEADER_KEY = "hdr-e2e-echo-" + secrets.token_hex(8)
KEY_MARK = "[redacted endpoints.fake.api_key]"
HEADER_MARK = "[redacted endpoints.fake.headers.X-Api-Key]"
BAD_REL = "bad/mentions-BADFILE.txt"


def config_with_secrets(root, url, **kw):
    """write_config's file (kept outside the searched folders) plus an X-Api-Key header,
    its value from {env:} like the api_key's, so neither secret is in the file."""
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, os.path.join(root, "run"), url, api_key_env="DROPD_E2E_KEY",
                        log_level="trace", **kw)
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("    model: e2e-model\n",
                        "    model: e2e-model\n    headers: { X-Api-Key: { env: DROPD_E2E_HDR } }\n")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    return cfg, dirs


def files_for(n):
    files = {f"f{i:02}.txt": f"document {i} about nothing in particular\n".encode() for i in range(n)}
    files[BAD_REL] = b"the endpoint refuses this one: BADFILE\n"
    return files


def forms(value):
    """The secret as written and as JSON escapes it (the same for these keys, kept for clarity)."""
    return {value, json.dumps(value)[1:-1], value[4:]}


def search_everything(run_dir, output, label):
    """Every file dropd wrote under run/ and its output: no secret, and which markers appear."""
    leaks = []
    if isinstance(output, str):
        output = output.encode("utf-8", "surrogateescape")
    blobs = [("dropd output", output)]
    for folder, _, names in os.walk(run_dir):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                blobs.append((path, f.read()))
    for where, data in blobs:
        for secret in (API_KEY, HEADER_KEY):
            for form in forms(secret):
                if form.encode() in data:
                    leaks.append(f"{where}: {form!r}")
    check(not leaks, f"[{label}] secrets found: {leaks[:5]}")
    everything = b"".join(data for _, data in blobs)
    return len(blobs), everything


def ledger_errors(state_dir):
    db = sqlite3.connect(f"file:{os.path.join(state_dir, 'ledger.db')}?mode=ro", uri=True)
    try:
        return [r[0] for r in db.execute("SELECT last_error FROM jobs WHERE last_error != ''")]
    finally:
        db.close()


def scenario_once(tmp):
    root = os.path.join(tmp, "once")
    os.makedirs(root)
    fake = Fake(root, faults=["status=500,rate=0.3", "status=429,retry-after=0,rate=0.2",
                              "status=400,match=BADFILE"], extra=["--echo-credentials"])
    try:
        cfg, dirs = config_with_secrets(root, fake.url, retry=("20", "10ms", "50ms"))
        files = files_for(20)
        write_files(dirs["inbox"], files)
        env = dict(os.environ, DROPD_E2E_KEY=API_KEY, DROPD_E2E_HDR=HEADER_KEY)
        res = run_dropd(["--once", "--config", cfg], cwd=root, env=env, timeout=120)
    finally:
        fake.stop()
    check(res.returncode == 3, f"[once] exit {res.returncode}, want 3 (one failed file): "
                               f"{res.stderr[-2000:]!r}")
    # The fake did echo: its answers held the keys (dropd's request carried them).
    answers = fake.requests()
    check(any(e["status"] == 500 for e in answers) and any(e["status"] == 429 for e in answers),
          f"[once] the 500 and 429 faults never fired: {answers[:5]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(bad == {BAD_REL}, f"[once] failed {sorted(bad)}, want only {BAD_REL}")
    n, everything = search_everything(os.path.dirname(dirs["inbox"]), res.stdout + res.stderr, "once")
    output = (res.stdout + res.stderr).decode("utf-8", "replace")
    for event in ("llm.attempt_failed", "job.failed"):
        lines = [l for l in output.splitlines() if event in l]
        check(lines and all(KEY_MARK in l for l in lines),
              f"[once] {event} lines without the key's marker: {lines[:2]}")
    err = load_json(os.path.join(dirs["failed"], BAD_REL + ".error.json"))["error"]
    check(KEY_MARK in err["message"] and HEADER_MARK in err["message"],
          f"[once] error record's message not masked as expected: {err['message']!r}")
    result = load_json(os.path.join(dirs["outbox"], "f00.txt.json"))
    check(KEY_MARK in result["llm"]["content"],
          f"[once] the echoed answer's content: {result['llm']['content']!r}")
    rows = ledger_errors(dirs["state"])
    check(rows and all(KEY_MARK in r for r in rows), f"[once] ledger last_error rows: {rows}")
    note(f"--once at trace level: {len(ok)} results, 1 failure, {len(answers)} echoing answers; "
         f"{n} files and dropd's output searched, no secret; markers in log, records, ledger")


def scenario_daemon_paused(tmp):
    root = os.path.join(tmp, "daemon")
    os.makedirs(root)
    fake = Fake(root, extra=["--echo-credentials"])
    dropd = None
    try:
        check(fake.control({"faults": ["status=401"]}) == 200, "[daemon] control refused")
        cfg, dirs = config_with_secrets(root, fake.url, retry=("3", "50ms", "1s"))
        files = files_for(5)
        del files[BAD_REL]
        write_files(dirs["inbox"], files)
        env = dict(os.environ, DROPD_E2E_KEY=API_KEY, DROPD_E2E_HDR=HEADER_KEY)
        dropd = start_dropd(["--config", cfg], cwd=root, env=env)
        line = dropd.stderr.lines[dropd.stderr.wait_for(r"endpoint\.paused", 10)]
        check(KEY_MARK in line, f"[daemon] endpoint.paused without the marker: {line!r}")
        check(fake.control({"faults": []}) == 200, "[daemon] control refused")
        wait_until(lambda: len(list_files(dirs["outbox"])) == len(files), 90,
                   "every result once the 401 is off")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(10) == 0, "[daemon] exit after SIGTERM")
        output = dropd.stdout.text() + dropd.stderr.text()
    finally:
        if dropd:
            dropd.kill()
        fake.stop()
    n, _ = search_everything(os.path.dirname(dirs["inbox"]), output, "daemon")
    note(f"daemon with 401s that echo the key: {line.split(' ', 2)[2][:110]!r}; "
         f"{n} files and the output searched, no secret")


def main():
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-secret-") as tmp:
        scenario_once(tmp)
        scenario_daemon_paused(tmp)


if __name__ == "__main__":
    run_main("secret_echo", main)
