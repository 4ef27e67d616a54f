#!/usr/bin/python3
"""dropd against an endpoint that misbehaves (dropd-fake-llm's faults).

(a) connection refused: files wait (no failures), `endpoint.down` is logged,
    and once the endpoint comes up on that port every file gets its result;
(b) status=500 on 30% of requests: retried, every file ends as a result;
(c) status=400 for the one file mentioning BADFILE: only that file fails,
    kind http, http_status 400, a body excerpt in the message;
(d) malformed JSON (30%) and connection reset mid-body (20%): retried,
    every file ends as a result;
(e) 401 switched on and off at run time: `endpoint.paused`, zero failures.
Each run: exactly one outcome per file, results' content derived from the
right file, and the request log agrees with the results' attempt counts.
"""

import os
import random
import signal
import sys
import tempfile
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 30


def make_inbox(inbox, seed, extra=None):
    rng = random.Random(seed)
    files = {}
    for i in range(N_FILES):
        rel = f"sub{i % 3}/f{i:02}.txt"
        files[rel] = english_text(rng, rng.randint(20, 300))
    files.update(extra or {})
    write_files(inbox, files)
    return files


def check_results(dirs, files, rels, label):
    """Each result's content is the fake's answer to that file; returns the attempts."""
    attempts = {}
    for rel in rels:
        doc = load_json(os.path.join(dirs["outbox"], rel + ".json"))
        want = fake_content(user_message(rel, files[rel]))
        check(doc["llm"]["content"] == want,
              f"[{label}] content of {rel!r}: {doc['llm']['content']!r}, want {want!r}")
        attempts[rel] = doc["llm"]["attempts"]
    return attempts


def check_log_matches_attempts(fake, attempts, label, fault_word):
    """Every attempt is one request: the log holds sum(attempts) entries, one 200 per file."""
    log = fake.requests()
    ok = [e for e in log if e["status"] == 200 and not e.get("fault")]
    faulted = [e for e in log if e not in ok]
    check(len(log) == sum(attempts.values()),
          f"[{label}] {len(log)} requests logged, results count {sum(attempts.values())} attempts")
    check(len(ok) == len(attempts), f"[{label}] {len(ok)} clean answers for {len(attempts)} files")
    check(faulted and all(fault_word in (e.get("fault") or str(e["status"])) for e in faulted),
          f"[{label}] the fault never fired or unexpected faults: {faulted[:3]}")
    retried = sum(1 for a in attempts.values() if a > 1)
    check(retried > 0, f"[{label}] no result needed more than one attempt")
    return len(faulted), retried


def once_run(tmp, label, faults, *, retry=("10", "50ms", "1s"), extra=None):
    root = os.path.join(tmp, label)
    os.makedirs(root)
    fake = Fake(root, faults=faults)
    try:
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, fake.url, max_in_flight=8, retry=retry,
                            timeouts={"connect": "2s", "request": "5s", "idle": "2s"})
        os.makedirs(dirs["inbox"])
        files = make_inbox(dirs["inbox"], seed=zlib.crc32(label.encode()), extra=extra)
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=60)
        return fake, dirs, files, res
    finally:
        fake.stop()


def scenario_status_500(tmp):
    fake, dirs, files, res = once_run(tmp, "status500", ["status=500,rate=0.3"])
    check(res.returncode == 0, f"[500] exit {res.returncode}, want 0: {res.stdout!r} "
                               f"{res.stderr.decode('utf-8', 'replace')[-2000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad, f"[500] failed files: {sorted(bad)}")
    attempts = check_results(dirs, files, ok, "500")
    faulted, retried = check_log_matches_attempts(fake, attempts, "500", "500")
    note(f"(b) status=500 rate 0.3: {len(ok)} results, exit 0, {faulted} 500s retried "
         f"({retried} files needed >1 attempt), log = sum of attempts")


def scenario_status_400_match(tmp):
    bad_rel = "bad/has-badfile.txt"
    extra = {bad_rel: b"this file mentions BADFILE so the endpoint refuses it\n"}
    fake, dirs, files, res = once_run(tmp, "status400", ["status=400,match=BADFILE"], extra=extra)
    check(res.returncode == 3, f"[400] exit {res.returncode}, want 3")
    ok, bad = check_outcomes(dirs, set(files))
    check(bad == {bad_rel}, f"[400] failed {sorted(bad)}, want only {bad_rel}")
    check_results(dirs, files, ok, "400")
    doc = load_json(os.path.join(dirs["failed"], bad_rel + ".error.json"))
    err = doc["error"]
    check(err.get("kind") == "http" and err.get("http_status") == 400 and err.get("attempts") == 1,
          f"[400] error record {err}, want kind http, http_status 400, attempts 1")
    check("400" in err.get("message", "") and "fake fault: status 400" in err["message"],
          f"[400] error message has no body excerpt: {err.get('message')!r}")
    log = fake.requests()
    check(len(log) == len(files) and sum(1 for e in log if e["status"] == 400) == 1,
          f"[400] request log: {len(log)} requests, want {len(files)} with one 400 (no retry of a 400)")
    note(f"(c) status=400 match=BADFILE: only {bad_rel} failed (kind http, 400, "
         f"message {err['message'][:60]!r}...), not retried; {len(ok)} others ok")


def scenario_garbage(tmp):
    fake, dirs, files, res = once_run(tmp, "garbage",
                                      ["malformed-json,rate=0.3", "reset-mid-body,rate=0.2"])
    check(res.returncode == 0, f"[garbage] exit {res.returncode}, want 0; stderr tail: "
                               f"{res.stderr.decode('utf-8', 'replace')[-2000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad, f"[garbage] failed files: {sorted(bad)}")
    attempts = check_results(dirs, files, ok, "garbage")
    log = fake.requests()
    kinds = {e.get("fault") for e in log if e.get("fault")}
    check(any("malformed" in k for k in kinds) and any("reset" in k for k in kinds),
          f"[garbage] both faults should have fired; saw {kinds}")
    faulted, retried = check_log_matches_attempts(fake, attempts, "garbage", "")
    note(f"(d) malformed-json 0.3 + reset-mid-body 0.2: {len(ok)} results, exit 0, "
         f"{faulted} bad answers retried ({retried} files >1 attempt)")


def daemon_config(root, url, retry):
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, root, url, settle="50ms", max_in_flight=4, retry=retry,
                        timeouts={"connect": "1s", "request": "5s", "idle": "2s"})
    os.makedirs(dirs["inbox"])
    return cfg, dirs


def scenario_refused(tmp):
    root = os.path.join(tmp, "refused")
    os.makedirs(root)
    port = closed_port()
    cfg, dirs = daemon_config(root, f"http://127.0.0.1:{port}/v1/chat/completions",
                              ("2", "50ms", "200ms"))
    files = make_inbox(dirs["inbox"], seed=5)
    dropd = fake = None
    try:
        dropd = start_dropd(["--config", cfg], cwd=root)
        line = dropd.stderr.lines[dropd.stderr.wait_for(r"endpoint\.down", 10)]
        check(dropd.popen.poll() is None, "[refused] dropd exited")
        failed_now = list_files(dirs["failed"])
        check(not failed_now, f"[refused] files failed while the endpoint was down: {sorted(failed_now)[:5]}")
        check(list_files(dirs["inbox"]) == set(files), "[refused] files left the inbox while the endpoint was down")
        note(f"(a) connection refused: {line.split(' ', 1)[1][:90]!r}; no file failed, all still in the inbox")
        fake = Fake(root, port=port)
        wait_until(lambda: len(list_files(dirs["outbox"])) == len(files), 15,
                   "every result once the endpoint is up")
        dropd.stderr.wait_for(r"endpoint\.recovered", 2)
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(10)
        check(rc == 0, f"[refused] exit {rc} after SIGTERM, want 0")
        ok, bad = check_outcomes(dirs, set(files))
        check(not bad, f"[refused] failed files: {sorted(bad)}")
        check_results(dirs, files, ok, "refused")
        check(len(fake.requests()) == len(files), f"[refused] {len(fake.requests())} requests for {len(files)} files")
        note(f"(a) endpoint up on port {port}: endpoint.recovered, all {len(ok)} files done, zero failed")
    finally:
        if dropd:
            dropd.kill()
        if fake:
            fake.stop()


def scenario_401(tmp):
    root = os.path.join(tmp, "auth")
    os.makedirs(root)
    fake = Fake(root)
    dropd = None
    try:
        check(fake.control({"faults": ["status=401"]}) == 200, "[401] control request refused")
        cfg, dirs = daemon_config(root, fake.url, ("3", "50ms", "1s"))
        files = make_inbox(dirs["inbox"], seed=6)
        dropd = start_dropd(["--config", cfg], cwd=root)
        line = dropd.stderr.lines[dropd.stderr.wait_for(r"endpoint\.paused", 10)]
        # Hold the 401 past one pause, so the paused endpoint is tried again and refused again.
        wait_until(lambda: sum(1 for e in fake.requests() if e["status"] == 401) > 4, 10,
                   "401s after the first pause")
        check(not list_files(dirs["failed"]), "[401] files failed during the 401s")
        check(fake.control({"faults": []}) == 200, "[401] control request refused")
        note(f"(e) 401 on: {line.split(' ', 1)[1][:100]!r}; retried after the pause, nothing failed")
        wait_until(lambda: len(list_files(dirs["outbox"])) == len(files), 15,
                   "every result once the 401 is off")
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(10)
        check(rc == 0, f"[401] exit {rc} after SIGTERM, want 0")
        ok, bad = check_outcomes(dirs, set(files))
        check(not bad, f"[401] failed files: {sorted(bad)}")
        check_results(dirs, files, ok, "401")
        n401 = sum(1 for e in fake.requests() if e["status"] == 401)
        note(f"(e) 401 off: all {len(ok)} files done, zero failed ({n401} requests got 401)")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-faults-") as tmp:
        scenario_refused(tmp)
        scenario_status_500(tmp)
        scenario_status_400_match(tmp)
        scenario_garbage(tmp)
        scenario_401(tmp)


if __name__ == "__main__":
    run_main("test_endpoint_faults", main)
