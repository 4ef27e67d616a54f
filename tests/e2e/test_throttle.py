#!/usr/bin/python3
"""dropd's throttle against dropd-fake-llm's limits and faults (issue #6).

(a) fake --rpm 600 and dropd requests_per_minute 600 over 200 files: dropd
    sends at no more than 10/s (measured from the fake's request log), gets
    at most a handful of 429s, and finishes every file;
(b) an outage window (503 from 1 s to 4 s after the fake starts) in the
    middle of a rate-limited run: zero files fail, the breaker opens and
    closes, few requests hit the dead endpoint, all finish after it;
(c) 401 switched on through /_fake/control mid-run, then off: zero files
    fail, `endpoint.paused` then `endpoint.resumed` are logged, no result
    appears while paused, and the rest finish after the switch back;
(d) status=400 for the one file mentioning BADFILE, under a rate limit:
    only that file fails, with the status and a body excerpt in its error
    record.
Scaled to stay under a minute on two busy cores.
"""

import datetime
import os
import random
import signal
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401


def make_inbox(inbox, n, seed, extra=None):
    rng = random.Random(seed)
    files = {}
    for i in range(n):
        files[f"d{i % 4}/f{i:03}.txt"] = english_text(rng, rng.randint(20, 120))
    files.update(extra or {})
    write_files(inbox, files)
    return files


def throttled_config(root, url, *, rpm, max_in_flight=8, retry=("4", "100ms", "1s"), settle="0ms"):
    """write_config's one-pipeline config with limits.requests_per_minute set."""
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, root, url, settle=settle, max_in_flight=max_in_flight, retry=retry,
                        timeouts={"connect": "1s", "request": "5s", "idle": "2s"})
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    old = f"limits: {{ max_in_flight: {max_in_flight} }}"
    check(old in text, "write_config's limits line changed; update throttled_config")
    text = text.replace(old, f"limits: {{ max_in_flight: {max_in_flight}, requests_per_minute: {rpm} }}")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    os.makedirs(dirs["inbox"])
    return cfg, dirs


def times_of(entries):
    """The request log's timestamps, as seconds (float), sorted."""
    out = []
    for e in entries:
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        out.append(t.replace(tzinfo=datetime.timezone.utc).timestamp())
    return sorted(out)


def max_in_window(times, window):
    """The most requests inside any `window`-second span."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def stderr_text(res):
    return res.stderr.decode("utf-8", "replace")


def scenario_rpm(tmp):
    root = os.path.join(tmp, "rpm")
    os.makedirs(root)
    n, rpm = 200, 600
    fake = Fake(root, extra=["--rpm", str(rpm)])
    try:
        cfg, dirs = throttled_config(root, fake.url, rpm=rpm)
        files = make_inbox(dirs["inbox"], n, seed=1)
        started = time.monotonic()
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=45)
        wall = time.monotonic() - started
        log = fake.requests()
    finally:
        fake.stop()
    check(res.returncode == 0, f"[rpm] exit {res.returncode}, want 0: {stderr_text(res)[-2000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad and len(ok) == n, f"[rpm] {len(ok)} results, failed {sorted(bad)[:5]}")
    n429 = sum(1 for e in log if e["status"] == 429)
    check(n429 <= 5, f"[rpm] {n429} requests answered 429, want at most a handful (5)")
    times = times_of([e for e in log if e["status"] == 200])
    per_s = rpm / 60
    # dropd starts with a one-second burst (10), then paces at 10/s: measure
    # the rate after the first second, and the densest 5 s anywhere.
    steady = [t for t in times if t >= times[0] + 1.0]
    rate = (len(steady) - 1) / (steady[-1] - steady[0])
    densest = max_in_window(times, 5.0)
    check(rate <= per_s * 1.03, f"[rpm] steady rate {rate:.2f}/s, limit {per_s:.0f}/s")
    check(densest <= 5 * per_s + per_s + 1,
          f"[rpm] {densest} requests within 5 s, limit 5 s x {per_s:.0f}/s + a {per_s:.0f} burst")
    check(rate >= per_s * 0.85, f"[rpm] steady rate {rate:.2f}/s: under 85% of the {per_s:.0f}/s limit")
    check("endpoint.rate_limited" in stderr_text(res) and "reason=rpm" in stderr_text(res),
          "[rpm] no endpoint.rate_limited reason=rpm in the log")
    note(f"(a) rpm {rpm}: {n} files in {wall:.1f} s, steady {rate:.2f}/s ({100 * rate / per_s:.0f}% "
         f"of {per_s:.0f}/s), densest 5 s {densest}, {n429} x 429, zero failed")


def scenario_outage(tmp):
    root = os.path.join(tmp, "outage")
    os.makedirs(root)
    n, rpm = 200, 1800  # 30/s: about 7 s of sending around a 3 s outage
    fake = Fake(root, faults=["outage=1s..4s"])
    try:
        cfg, dirs = throttled_config(root, fake.url, rpm=rpm, retry=("3", "100ms", "1s"))
        files = make_inbox(dirs["inbox"], n, seed=2)
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=45)
        log = fake.requests()
    finally:
        fake.stop()
    err = stderr_text(res)
    check(res.returncode == 0, f"[outage] exit {res.returncode}, want 0: {err[-2000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad and len(ok) == n, f"[outage] {len(ok)} results, failed {sorted(bad)[:5]}")
    n503 = sum(1 for e in log if e["status"] == 503)
    ok_times = times_of([e for e in log if e["status"] == 200])
    bad_times = times_of([e for e in log if e["status"] == 503])
    check(n503 > 0, "[outage] the outage never fired")
    before = sum(1 for t in ok_times if t < bad_times[0])
    after = sum(1 for t in ok_times if t > bad_times[-1])
    check(before > 0 and after > 0, f"[outage] not in the middle: {before} ok before, {after} after")
    # Without the breaker, 8 slots retrying at 100 ms..1 s would send ~100
    # requests into a 3 s outage; with it, a few failures then single probes.
    check(n503 <= 30, f"[outage] {n503} requests hit the outage, want the breaker to hold them back")
    for event in ("endpoint.breaker_open", "endpoint.breaker_closed"):
        check(event in err, f"[outage] no {event} in the log:\n{err[-2000:]}")
    check(err.count("endpoint.breaker_open") <= 1, "[outage] breaker_open logged more than once")
    note(f"(b) outage 1s..4s at {rpm // 60}/s: {len(ok)} files done, zero failed; {before} before, "
         f"{after} after it; {n503} x 503 (breaker open/closed logged once)")


def scenario_401(tmp):
    root = os.path.join(tmp, "auth")
    os.makedirs(root)
    n, rpm = 100, 1200
    fake = Fake(root)
    dropd = None
    try:
        cfg, dirs = throttled_config(root, fake.url, rpm=rpm, retry=("3", "50ms", "500ms"),
                                     settle="50ms")
        files = make_inbox(dirs["inbox"], n, seed=3)
        dropd = start_dropd(["--config", cfg], cwd=root)
        wait_until(lambda: len(list_files(dirs["outbox"])) >= 20, 15, "20 results before the 401s")
        check(fake.control({"faults": ["status=401"]}) == 200, "[401] control request refused")
        i = dropd.stderr.wait_for(r"endpoint\.paused", 10)
        # Hold the 401s past a few pauses: the probes are refused again.
        wait_until(lambda: sum(1 for e in fake.requests() if e["status"] == 401) >= 3, 10,
                   "401s for the probes after the first pause")
        held = len(list_files(dirs["outbox"]))
        time.sleep(0.6)  # a pause's length: no result may appear meanwhile
        check(len(list_files(dirs["outbox"])) == held, "[401] results appeared while paused")
        check(not list_files(dirs["failed"]), "[401] files failed during the 401s")
        n401 = sum(1 for e in fake.requests() if e["status"] == 401)
        check(fake.control({"faults": []}) == 200, "[401] control request refused")
        dropd.stderr.wait_for(r"endpoint\.resumed", 10, start=i)
        wait_until(lambda: len(list_files(dirs["outbox"])) == n, 20, "every result after the 401s")
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(10)
        check(rc == 0, f"[401] exit {rc} after SIGTERM, want 0")
        ok, bad = check_outcomes(dirs, set(files))
        check(not bad, f"[401] failed files: {sorted(bad)}")
        paused = [l for l in dropd.stderr.lines if "endpoint.paused" in l]
        check(len(paused) == 1, f"[401] endpoint.paused logged {len(paused)} times, want once")
        note(f"(c) 401 on after {held} results: {paused[0].split(' ', 1)[1][:70]!r}...; "
             f"{n401} x 401, no result and no failure while paused; off: endpoint.resumed, all {n} done")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()


def scenario_400(tmp):
    root = os.path.join(tmp, "badfile")
    os.makedirs(root)
    bad_rel = "bad/has-badfile.txt"
    extra = {bad_rel: b"this file mentions BADFILE so the endpoint refuses it\n"}
    fake = Fake(root, faults=["status=400,match=BADFILE"])
    try:
        cfg, dirs = throttled_config(root, fake.url, rpm=3000)
        files = make_inbox(dirs["inbox"], 40, seed=4, extra=extra)
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=30)
        log = fake.requests()
    finally:
        fake.stop()
    check(res.returncode == 3, f"[400] exit {res.returncode}, want 3")
    ok, bad = check_outcomes(dirs, set(files))
    check(bad == {bad_rel}, f"[400] failed {sorted(bad)}, want only {bad_rel}")
    err = load_json(os.path.join(dirs["failed"], bad_rel + ".error.json"))["error"]
    check(err.get("http_status") == 400 and err.get("attempts") == 1,
          f"[400] error record {err}, want http_status 400 after 1 attempt")
    check("fake fault: status 400" in err.get("message", ""),
          f"[400] no body excerpt in the message: {err.get('message')!r}")
    check(sum(1 for e in log if e["status"] == 400) == 1, "[400] the 400 was retried")
    note(f"(d) status=400 match=BADFILE: only {bad_rel} failed (http_status 400, "
         f"{err['message'][:50]!r}...), {len(ok)} others ok")


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-throttle-") as tmp:
        scenario_400(tmp)
        scenario_401(tmp)
        scenario_outage(tmp)
        scenario_rpm(tmp)


if __name__ == "__main__":
    run_main("test_throttle", main)
