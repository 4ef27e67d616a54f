#!/usr/bin/python3
"""Streamed answers (`stream: true`) over https against dropd-fake-llm (issue 13).

(a) 1,000 small files processed with `stream: true` and again without:
    every result's content is the same in both runs (and the fake's
    deterministic answer), every streamed result has llm.ttft_ms and its
    usage from the stream's usage chunk; the request bodies asked for
    "stream": true with include_usage (the fake streams only then).
(b) `stall` on files named STALL (once each) with timeouts.idle 300ms, and
    `split` (one write per byte) and `gzip` (Content-Encoding: gzip) on a
    share of the rest: the stalled files are cut at the idle timeout,
    retried, and their results are whole; split and gzip streams read the
    same as the others.
(c) `stream-cut` on a file named CUT (once): retried, the result whole,
    never a partial one.
(d) `stream-error` (an `event: error` mid-stream) on a file named ERRFILE,
    every time: retried up to retry.max_attempts, then failed with kind
    stream_error and the error's text; nothing of its stream in any result.
"""

import os
import random
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 1000



def run(tmp, label, certs, files, *, stream, faults=(), timeouts=None, retry=("4", "50ms", "200ms")):
    """One `dropd --once` over `files` against an https fake; returns (dirs, result, fake log)."""
    root = os.path.join(tmp, label)
    os.makedirs(root)
    fake = Fake(root, faults=faults,
                extra=["--tls-cert", certs["leaf.pem"], "--tls-key", certs["leaf.key"]])
    try:
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, fake.url.replace("http://", "https://"), max_in_flight=16,
                            retry=retry, timeouts=timeouts or {"request": "20s", "idle": "5s"})
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("    model: e2e-model\n", "    model: e2e-model\n"
                            f"    tls: {{ ca_file: {yq(certs['ca.pem'])} }}\n"
                            f"    stream: {yq(stream)}\n")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text)
        os.makedirs(dirs["inbox"])
        write_files(dirs["inbox"], files)
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=300)
        return dirs, res, fake.requests()
    finally:
        fake.stop()


def results(dirs, rels):
    return {rel: load_json(os.path.join(dirs["outbox"], rel + ".json")) for rel in rels}


def stderr_tail(res):
    return res.stderr.decode("utf-8", "replace")[-2000:]


def scenario_thousand(tmp, certs):
    rng = random.Random(13)
    files = {f"d{i % 10}/f{i:04}.txt": english_text(rng, rng.randint(5, 60)) for i in range(N_FILES)}
    runs = {}
    for stream in (True, False):
        label = "streamed" if stream else "plain"
        dirs, res, _ = run(tmp, label, certs, files, stream=stream)
        check(res.returncode == 0, f"[{label}] exit {res.returncode}: {stderr_tail(res)}")
        ok, bad = check_outcomes(dirs, set(files))
        check(not bad and len(ok) == N_FILES, f"[{label}] {len(bad)} failed, {len(ok)} ok")
        runs[label] = results(dirs, ok)
    for rel, data in files.items():
        want = fake_content(user_message(rel, data))
        streamed, plain = runs["streamed"][rel]["llm"], runs["plain"][rel]["llm"]
        check(streamed["content"] == plain["content"] == want,
              f"{rel!r}: streamed {streamed['content']!r}, plain {plain['content']!r}, want {want!r}")
        check(isinstance(streamed.get("ttft_ms"), int) and 0 <= streamed["ttft_ms"] <= streamed["latency_ms"],
              f"{rel!r}: streamed result has ttft_ms {streamed.get('ttft_ms')!r} "
              f"(latency_ms {streamed['latency_ms']})")
        check("ttft_ms" not in plain, f"{rel!r}: a plain result has ttft_ms")
        check(streamed["usage"] == plain["usage"] and not streamed.get("usage_estimated"),
              f"{rel!r}: usage {streamed['usage']} (estimated: {streamed.get('usage_estimated')}) "
              f"vs plain {plain['usage']}")
    ttfts = sorted(r["llm"]["ttft_ms"] for r in runs["streamed"].values())
    note(f"(a) {N_FILES} files over https, streamed and plain: every content equal and the fake's; "
         f"ttft_ms in every streamed result (p50 {ttfts[len(ttfts) // 2]} ms, max {ttfts[-1]} ms)")


def small_inbox(seed, names):
    rng = random.Random(seed)
    files = {f"f{i:02}.txt": english_text(rng, rng.randint(5, 40)) for i in range(30)}
    for name in names:
        files[f"{name.lower()}.txt"] = f"this file says {name} in its text\n".encode()
    return files


def check_whole(dirs, files, rel, label, min_attempts):
    doc = results(dirs, [rel])[rel]["llm"]
    want = fake_content(user_message(rel, files[rel]))
    check(doc["content"] == want, f"[{label}] {rel!r}: content {doc['content']!r}, want {want!r}")
    check(doc["attempts"] >= min_attempts,
          f"[{label}] {rel!r}: {doc['attempts']} attempts, want at least {min_attempts}")
    return doc["attempts"]


def scenario_stall_and_cut(tmp, certs):
    stalled = ["STALLA", "STALLB", "STALLC"]
    files = small_inbox(2, stalled + ["CUT"])
    faults = ["stall,match=STALL,times=3", "stream-cut,match=CUT,times=1", "split,rate=0.3",
              "gzip,rate=0.3"]
    dirs, res, log = run(tmp, "stall", certs, files, stream=True, faults=faults,
                         timeouts={"request": "20s", "idle": "300ms"})
    check(res.returncode == 0, f"[stall] exit {res.returncode}: {stderr_tail(res)}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad, f"[stall] failed files: {sorted(bad)}")
    for rel in ok:
        want = fake_content(user_message(rel, files[rel]))
        check(results(dirs, [rel])[rel]["llm"]["content"] == want, f"[stall] {rel!r} not whole")
    attempts = [check_whole(dirs, files, f"{n.lower()}.txt", "stall", 2) for n in stalled]
    cut = check_whole(dirs, files, "cut.txt", "cut", 2)
    fired = [e.get("fault") or "" for e in log]
    check(sum("stall" in f for f in fired) == 3 and sum("stream-cut" in f for f in fired) == 1
          and any("split" in f for f in fired) and any("gzip" in f for f in fired),
          f"[stall] faults fired: {sorted(set(fired))}")
    note(f"(b) 3 stalled streams cut at timeouts.idle 300ms and retried ({attempts} attempts), "
         f"results whole; split and gzip streams read the same; (c) the cut stream retried "
         f"({cut} attempts), result whole")


def scenario_error_event(tmp, certs):
    files = small_inbox(3, ["ERRFILE"])
    dirs, res, log = run(tmp, "error", certs, files, stream=True,
                         faults=["stream-error,match=ERRFILE"], retry=("3", "50ms", "200ms"))
    check(res.returncode == 3, f"[error] exit {res.returncode}, want 3: {stderr_tail(res)}")
    ok, bad = check_outcomes(dirs, set(files))
    check(bad == {"errfile.txt"}, f"[error] failed {sorted(bad)}, want only errfile.txt")
    err = load_json(os.path.join(dirs["failed"], "errfile.txt.error.json"))["error"]
    check(err.get("kind") == "stream_error" and err.get("attempts") == 3
          and "fake fault: stream-error" in err.get("message", ""),
          f"[error] error record {err}, want kind stream_error after 3 attempts with the reason")
    tried = sum(1 for e in log if "stream-error" in (e.get("fault") or ""))
    check(tried == 3, f"[error] the fake saw {tried} attempts of errfile.txt, want 3")
    note(f"(d) an error event mid-stream: retried 3 times, then failed: {err['message'][:70]!r}")


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-stream-") as tmp:
        certs = make_certs(os.path.join(tmp, "certs"))
        scenario_thousand(tmp, certs)
        scenario_stall_and_cut(tmp, certs)
        scenario_error_event(tmp, certs)


if __name__ == "__main__":
    run_main("test_streaming", main)
