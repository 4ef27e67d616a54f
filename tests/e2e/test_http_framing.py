#!/usr/bin/python3
"""dropd against answers whose HTTP framing is legal but unusual, or too big.

(a) chunk-ext: every answer is chunked with two extensions on every
    chunk-size line (`;a=1;b="x;y"`, legal per RFC 9112 §7.1.1):
    `dropd --once` exits 0 and every file has its result, first try;
(b) oversize,match=HUGE: the answer to the one file mentioning HUGE
    declares Content-Length 1 TiB. Only that file fails, kind
    `response_too_large`, after one attempt (not retried), the message names
    max_response_bytes and the Content-Length; the others succeed, exit 3
    (--once with failures), and the endpoint is not paused or broken open.
"""

import os
import random
import sys
import tempfile
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 8
HEALTH_EVENTS = ("endpoint.breaker_open", "endpoint.paused", "endpoint.down")


def once_run(tmp, label, faults, extra=None):
    root = os.path.join(tmp, label)
    os.makedirs(root)
    fake = Fake(root, faults=faults)
    try:
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, fake.url, max_in_flight=4, retry=("4", "50ms", "200ms"),
                            timeouts={"connect": "2s", "request": "5s", "idle": "2s"})
        os.makedirs(dirs["inbox"])
        rng = random.Random(zlib.crc32(label.encode()))
        files = {f"f{i}.txt": english_text(rng, rng.randint(20, 200)) for i in range(N_FILES)}
        files.update(extra or {})
        write_files(dirs["inbox"], files)
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=60)
        return fake, dirs, files, res
    finally:
        fake.stop()


def stderr_of(res):
    return res.stderr.decode("utf-8", "replace")


def check_results(dirs, files, rels, label):
    for rel in rels:
        doc = load_json(os.path.join(dirs["outbox"], rel + ".json"))
        want = fake_content(user_message(rel, files[rel]))
        check(doc["llm"]["content"] == want,
              f"[{label}] content of {rel!r}: {doc['llm']['content']!r}, want {want!r}")
        check(doc["llm"]["attempts"] == 1, f"[{label}] {rel!r} took {doc['llm']['attempts']} attempts")


def scenario_chunk_ext(tmp):
    fake, dirs, files, res = once_run(tmp, "chunk-ext", ["chunk-ext"])
    check(res.returncode == 0, f"[chunk-ext] exit {res.returncode}, want 0; stderr tail: "
                               f"{stderr_of(res)[-2000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad, f"[chunk-ext] failed files: {sorted(bad)}")
    check_results(dirs, files, ok, "chunk-ext")
    log = fake.requests()
    check(len(log) == len(files) and all(e.get("fault") == "chunk-ext" for e in log),
          f"[chunk-ext] request log: {len(log)} requests for {len(files)} files, faults "
          f"{sorted({e.get('fault') for e in log}, key=str)}")
    note(f"(a) chunk-ext: {len(ok)} results, one request each, exit 0")


def scenario_oversize(tmp):
    huge = "huge.txt"
    extra = {huge: b"this file mentions HUGE, so the endpoint answers it with 1 TiB\n"}
    fake, dirs, files, res = once_run(tmp, "oversize", ["oversize,match=HUGE"], extra=extra)
    err_text = stderr_of(res)
    check(res.returncode == 3, f"[oversize] exit {res.returncode}, want 3; stderr tail: "
                               f"{err_text[-2000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(bad == {huge}, f"[oversize] failed {sorted(bad)}, want only {huge}")
    check_results(dirs, files, ok, "oversize")
    err = load_json(os.path.join(dirs["failed"], huge + ".error.json"))["error"]
    check(err.get("kind") == "response_too_large" and err.get("attempts") == 1,
          f"[oversize] error record {err}, want kind response_too_large, attempts 1")
    want = "response body over max_response_bytes (67108864): Content-Length 1099511627776"
    check(want in err.get("message", ""), f"[oversize] message {err.get('message')!r}, want {want!r}")
    log = fake.requests()
    n_oversize = sum(1 for e in log if e.get("fault") == "oversize,match=HUGE")
    check(len(log) == len(files) and n_oversize == 1,
          f"[oversize] {len(log)} requests ({n_oversize} oversize) for {len(files)} files: "
          f"the oversize answer must not be retried")
    seen = [event for event in HEALTH_EVENTS if event in err_text]
    check(not seen, f"[oversize] the endpoint's health suffered: {seen} in the log")
    note(f"(b) oversize: only {huge} failed ({err['message'][:80]!r}), one request, "
         f"{len(ok)} others ok, exit 3, no {'/'.join(HEALTH_EVENTS)}")


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-framing-") as tmp:
        scenario_chunk_ext(tmp)
        scenario_oversize(tmp)


if __name__ == "__main__":
    run_main("test_http_framing", main)
