#!/usr/bin/python3
"""`GET /files?path=` and `dropd status FILE`: "why isn't this file done?"

One dropd, three pipelines, each on its own dropd-fake-llm:
- `metered` allows one request a minute: a.txt is done (the ledger's
  answer: done, its result path), then b.txt waits on the RPM bucket;
- `flaky` is answered 500 with a 60 s backoff: c.txt is in backoff after
  the 500, with the error and the time of its next try; e.txt is answered
  400 and failed (the ledger's answer: failed, why, where it went);
- `locked` is answered 401: d.txt waits behind the paused endpoint, with
  the pause's reason.
Each is asked through /files and through `dropd status FILE` (by absolute
path, by a path relative to the current folder, and by its bare rel,
which every pipeline is asked about), and must give the right reason. A
file no one knows is 404 `unknown` and exits 1; a non-UTF-8 name is
answered; a bad query is 400; with a token, /files needs it.
"""

import http.client
import json
import os
import re
import signal
import sys
import tempfile
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

TOKEN = "files-token-0123456789"


def get(port, target, token=TOKEN):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", target, headers=headers)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def files(port, rel, pipeline=None):
    target = "/files?path=" + urllib.parse.quote(rel, safe="/")
    if pipeline:
        target += "&pipeline=" + pipeline
    code, body = get(port, target)
    return code, json.loads(body)


def status_file(cfg, arg, cwd=None, json_out=False):
    argv = ["status", "--config", cfg] + (["--json"] if json_out else []) + [arg]
    env = dict(os.environ, DROPD_STATUS_TOKEN=TOKEN)
    r = run_dropd(argv, cwd=cwd, env=env, timeout=30)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def write_three_pipelines(cfg, tmp, fakes, port):
    dirs = {}
    lines = [f"state_dir: {yq(os.path.join(tmp, 'state'))}",
             "log: { level: info, format: text }", "endpoints:"]
    limits = {"metered": "max_in_flight: 1, requests_per_minute: 1",
              "flaky": "max_in_flight: 4", "locked": "max_in_flight: 4"}
    for name, fake in fakes.items():
        lines += [f"  {name}:", f"    url: {yq(fake.url)}", "    model: e2e-model",
                  f"    limits: {{ {limits[name]} }}",
                  "    retry: { max_attempts: 3, initial_backoff: 60s, max_backoff: 60s }"]
    lines.append("pipelines:")
    for name in fakes:
        d = {k: os.path.join(tmp, name, k) for k in ("inbox", "outbox", "done", "failed")}
        for path in d.values():
            os.makedirs(path, exist_ok=True)
        dirs[name] = d
        # settle 100ms: a file is never read before its bytes are in (a read
        # of the empty file would be a version of its own, with a result).
        lines += [f"  - name: {name}", f"    watch: [ {yq(d['inbox'])} ]", "    settle: 100ms",
                  f"    endpoint: {name}", "    prompt: { user: \"{{content}}\" }",
                  f"    output: {{ dir: {yq(d['outbox'])} }}",
                  f"    on_success: {{ action: move, dir: {yq(d['done'])} }}",
                  f"    on_failure: {{ action: move, dir: {yq(d['failed'])} }}"]
    lines += [f"status: {{ listen: \"127.0.0.1:{port}\", token: {{ env: DROPD_STATUS_TOKEN }} }}"]
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return dirs


def wait_state(port, rel, pipeline, pred, what):
    def answered():
        code, doc = files(port, rel, pipeline)
        return doc if pred(code, doc) else None
    return wait_until(answered, 30, what)


def check_cli(cfg, arg, cwd, sentence_re, detail_re):
    rc, out, err = status_file(cfg, arg, cwd=cwd)
    check(rc == 0, f"dropd status {arg}: exit {rc}: {err!r}")
    first = out.splitlines()[0] if out else ""
    check(re.search(sentence_re, first), f"dropd status {arg}: sentence {first!r}")
    check(re.search(detail_re, out, re.M), f"dropd status {arg}: details {out!r}")


def scenario(tmp):
    fakes = {"metered": Fake(tmp), "flaky": Fake(tmp, faults=["status=400,match=BADFILE", "status=500"]),
             "locked": Fake(tmp, faults=["status=401"])}
    dropd = None
    try:
        port = closed_port()
        cfg = os.path.join(tmp, "dropd.yaml")
        dirs = write_three_pipelines(cfg, tmp, fakes, port)
        env = dict(os.environ, DROPD_STATUS_TOKEN=TOKEN)
        dropd = start_dropd(["--config", cfg], cwd=tmp, env=env)
        dropd.stderr.wait_for(r"status\.listening address=", 20)
        wait_until(lambda: get(port, "/readyz")[0] == 200, 20, "the daemon ready")

        # The finished one: the ledger answers.
        write_files(dirs["metered"]["inbox"], {"a.txt": b"first file\n"})
        done = wait_state(port, "a.txt", "metered", lambda c, d: d.get("state") == "done",
                          "a.txt done in /files")
        check(done["ledger"]["outcome"] == "done" and
              done["ledger"]["result"] == os.path.join(dirs["metered"]["outbox"], "a.txt.json"),
              f"a.txt's ledger answer {done}")
        check(done["sentence"].startswith("a.txt is done: its result "), done["sentence"])
        note(f"done: {done['sentence']}")

        # The RPM bucket is empty now: b.txt waits on it for about a minute.
        write_files(dirs["metered"]["inbox"], {"b.txt": b"second file\n"})
        rpm = wait_state(port, "b.txt", "metered",
                         lambda c, d: d.get("waiting_on", {}).get("what") == "rpm",
                         "b.txt waiting on rpm")
        check(rpm["state"] == "waiting" and rpm["waiting_on"]["until"] and
              "requests-per-minute limit until" in rpm["sentence"], f"rpm answer {rpm}")
        note(f"rpm: {rpm['sentence']}")

        write_files(dirs["flaky"]["inbox"], {"c.txt": b"third file\n"})
        backoff = wait_state(port, "c.txt", "flaky", lambda c, d: d.get("state") == "backoff",
                             "c.txt in backoff")
        check(backoff["waiting_on"]["what"] == "backoff" and backoff["waiting_on"]["until"] and
              "500" in backoff["waiting_on"]["detail"] and backoff["attempts"] == 1 and
              "is in backoff after a failed attempt" in backoff["sentence"],
              f"backoff answer {backoff}")
        note(f"backoff: {backoff['sentence']}")

        write_files(dirs["flaky"]["inbox"], {"e.txt": b"BADFILE\n"})
        failed = wait_state(port, "e.txt", "flaky", lambda c, d: d.get("state") == "failed",
                            "e.txt failed in /files")
        check(failed["ledger"]["outcome"] == "failed" and "400" in failed["last_error"] and
              failed["ledger"]["source_moved_to"] == os.path.join(dirs["flaky"]["failed"], "e.txt")
              and failed["sentence"].startswith("e.txt failed after 1 attempt: http: HTTP 400"),
              f"e.txt's ledger answer {failed}")
        note(f"failed: {failed['sentence']}")

        write_files(dirs["locked"]["inbox"], {"d.txt": b"fourth file\n"})
        paused = wait_state(port, "d.txt", "locked",
                            lambda c, d: d.get("waiting_on", {}).get("what") == "pause",
                            "d.txt waiting on the paused endpoint")
        check("401" in paused["waiting_on"]["detail"] and
              "endpoint locked is paused" in paused["sentence"], f"pause answer {paused}")
        note(f"pause: {paused['sentence']}")

        # Without ?pipeline= every pipeline is asked; the CLI finds the
        # pipeline from the path, or asks them all for a bare rel.
        check(files(port, "c.txt")[1]["pipeline"] == "flaky", "c.txt found without pipeline=")
        check_cli(cfg, os.path.join(dirs["metered"]["inbox"], "b.txt"), tmp,
                  r"^b\.txt waits on endpoint metered's requests-per-minute limit until ",
                  r"^  waiting on\s+rpm until ")
        check_cli(cfg, os.path.join("flaky", "inbox", "c.txt"), tmp,
                  r"^c\.txt is in backoff after a failed attempt: .*500",
                  r"^  state\s+backoff since ")
        check_cli(cfg, "d.txt", "/", r"^d\.txt waits: endpoint locked is paused: .*401",
                  r"^  pipeline\s+locked$")
        check_cli(cfg, "a.txt", tmp, r"^a\.txt is done: its result ", r"^  ledger\s+done at ")
        rc, out, _ = status_file(cfg, "b.txt", cwd=tmp, json_out=True)
        check(rc == 0 and json.loads(out)["waiting_on"]["what"] == "rpm", f"--json {rc} {out!r}")
        note("dropd status FILE gives each file's reason, by absolute, relative and bare path")

        code, unknown = files(port, "nope.txt")
        check(code == 404 and unknown["state"] == "unknown" and
              "is unknown to any pipeline" in unknown["sentence"], f"unknown {code} {unknown}")
        rc, out, _ = status_file(cfg, "nope.txt", cwd=tmp)
        check(rc == 1 and "is unknown" in out, f"dropd status on an unknown file: {rc} {out!r}")
        check(files(port, "a.txt", "nosuch")[1]["sentence"] == "There is no pipeline named nosuch.",
              "an unknown pipeline is named")

        # Any bytes: a Latin-1 name waits behind the paused endpoint too.
        odd = b"caf\xe9 \xff+%.txt"
        with open(os.path.join(os.fsencode(dirs["locked"]["inbox"]), odd), "wb") as f:
            f.write(b"odd name\n")
        target = "/files?path=" + urllib.parse.quote_from_bytes(odd) + "&pipeline=locked"
        wait_until(lambda: get(port, target)[0] == 200, 20, "the non-UTF-8 name answered")
        odd_state = json.loads(get(port, target)[1])["state"]
        check(odd_state in ("settling", "queued", "reading", "waiting", "sending", "backoff"),
              f"the odd name's state {odd_state}")
        check(get(port, "/files")[0] == 400 and get(port, "/files?path=")[0] == 400, "no path")
        check(get(port, "/files?path=a.txt", token=None)[0] == 401, "no token")
        note("unknown files 404 and exit 1; a non-UTF-8 name is answered; 400 without a path")

        dropd.signal(signal.SIGTERM)
        check(dropd.wait(60) == 0, "dropd exit code")
    finally:
        if dropd:
            dropd.kill()
        for fake in fakes.values():
            fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-files-") as tmp:
        scenario(tmp)


if __name__ == "__main__":
    run_main("test_status_files", main)
