#!/usr/bin/python3
"""Memory stays bounded with a stalled endpoint and a large backlog.

3,000 files of 64 KiB (about 190 MiB) wait in the inbox; the endpoint
(dropd-fake-llm --fault hang) never answers. With max_in_flight 4, dropd
may hold at most max_in_flight + read-ahead (max(2, 4/4) = 2, see
daemon/pipeline/dispatcher.cpp) files' contents.

Checks: exactly max_in_flight requests reach the endpoint; dropd's peak RSS
(VmHWM, sampled over about a second) stays far below the backlog (< 40 MiB);
what the contents cost, the peak minus the peak of a run over the same
3,000 paths holding 100 bytes each (path backlog, threads and connections
cost the same in both), stays under (max_in_flight + read-ahead + margin 4)
x file size x 3. The idle dropd's peak is printed for reference: about 3 MiB
of growth over it is there with 100-byte files too. In each run SIGTERM
starts the drain, a second SIGTERM cancels the hung requests, dropd exits 0,
and every file is still in the inbox, unchanged (nothing lost, nothing
moved, no record written).
"""

import os
import random
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 3000
FILE_SIZE = 64 * 1024
TINY_SIZE = 100
MAX_IN_FLIGHT = 4
READ_AHEAD = max(2, MAX_IN_FLIGHT // 4)
MARGIN_FILES = 4
KIB = 1024
MIB = 1024 * 1024


def write_backlog(inbox, size):
    """N_FILES files of `size` bytes, the same names whatever the size."""
    base = english_text(random.Random(3), 16000)
    check(len(base) >= size, "generator: base text too short")
    for i in range(N_FILES):
        head = f"file {i:05}\n".encode()
        data = (head + base)[:size]
        folder = os.path.join(inbox, f"d{i % 10}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i:05}.txt"), "wb") as f:
            f.write(data)


def idle_baseline(root, cfg_path):
    """VmHWM (KiB) of a dropd on an empty inbox after its startup scan."""
    dropd = start_dropd(["--config", cfg_path], cwd=root, env=dropd_env())
    try:
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        status = proc_status(dropd.pid)
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(10) == 0, "idle dropd did not exit 0 on SIGTERM")
        return status["VmHWM"]
    finally:
        dropd.kill()


def stalled_run(root, cfg_path, fake, dirs, size, label, limit):
    """Runs dropd on the backlog against the hung endpoint; returns its peak VmHWM (KiB)
    and checks the stop: SIGTERM drains, a second cancels, exit 0, nothing moved."""
    sent_before = len(fake.requests())
    dropd = start_dropd(["--config", cfg_path], cwd=root, env=dropd_env())
    try:
        wait_until(lambda: len(fake.requests()) - sent_before >= MAX_IN_FLIGHT, 20,
                   f"[{label}] {MAX_IN_FLIGHT} requests at the stalled endpoint")
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        samples = []
        for _ in range(10):
            samples.append(proc_status(dropd.pid))
            time.sleep(0.1)  # sampling period of the measurement, not a synchronisation
        peak = max(s["VmHWM"] for s in samples)
        sent = len(fake.requests()) - sent_before
        check(sent == MAX_IN_FLIGHT, f"[{label}] {sent} requests reached the endpoint, "
                                     f"want exactly max_in_flight = {MAX_IN_FLIGHT}")
        check(peak * KIB < limit, f"[{label}] peak RSS {peak / KIB:.1f} MiB, "
                                      f"want < {limit / MIB:.0f} MiB")

        start = len(dropd.stderr.lines)
        dropd.signal(signal.SIGTERM)
        dropd.stderr.wait_for(r"daemon\.stopping", 10, start)
        check(dropd.popen.poll() is None, f"[{label}] dropd exited on the first SIGTERM "
                                          "with requests in flight (they should drain)")
        dropd.signal(signal.SIGTERM)
        dropd.stderr.wait_for(r"daemon\.stop_now", 10, start)
        rc = dropd.wait(10)
        check(rc == 0, f"[{label}] exit {rc} after two SIGTERMs, want 0; log tail:\n"
                       f"{dropd.stderr.text()[-1500:]}")
        check(len(fake.requests()) - sent_before == MAX_IN_FLIGHT,
              f"[{label}] more requests were sent during the stop")

        left = list_files(dirs["inbox"])
        check(len(left) == N_FILES, f"[{label}] {N_FILES - len(left)} files left the inbox")
        for name in ("outbox", "done", "failed"):
            found = list_files(dirs[name])
            check(not found, f"[{label}] {name} is not empty after a stalled run: {sorted(found)[:5]}")
        sizes = {os.path.getsize(os.path.join(dirs["inbox"], rel)) for rel in left}
        check(sizes == {size}, f"[{label}] inbox file sizes changed: {sizes}")
        return peak
    finally:
        dropd.kill()


# ASan's shadow memory, instrumented globals and allocator add a fixed
# cost that grows with the binary, not the backlog (the idle dropd's
# VmHWM went from 146 to 181 MiB under ASan when the extraction and JSON
# Schema code came in; 11.6 MiB without ASan). So under ASan
# (scripts/test --sanitize sets ASAN_OPTIONS) the bound is the idle
# peak plus the 40 MiB the plain build must stay under in all; the bound
# on the contents' share below holds either way.
RSS_LIMIT = 40 * MIB


def rss_limit(idle_kib):
    return idle_kib * KIB + RSS_LIMIT if os.environ.get("ASAN_OPTIONS") else RSS_LIMIT


# ASan's quarantine keeps every freed block (up to 256 MiB) out of reuse
# to catch use-after-free, so each buffer a file passes through stays
# resident and the contents' share below measured the allocator, not
# dropd (0.5 to 1.9 MiB from run to run). Without the quarantine ASan
# still checks bounds here; other tests cover use-after-free.
def dropd_env():
    asan = os.environ.get("ASAN_OPTIONS")
    if not asan:
        return None
    return dict(os.environ, ASAN_OPTIONS=asan + ":quarantine_size_mb=0")


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-memory-") as tmp:
        fake = Fake(tmp, faults=["hang"])
        try:
            cfg = os.path.join(tmp, "dropd.yaml")
            dirs = write_config(cfg, tmp, fake.url, settle="0ms", max_in_flight=MAX_IN_FLIGHT,
                                retry=("2", "50ms", "200ms"), max_file_size="1MiB",
                                timeouts={"connect": "5s", "request": "600s", "idle": "600s"})
            os.makedirs(dirs["inbox"])
            idle = idle_baseline(tmp, cfg)
            check(fake.requests() == [], "the idle dropd sent requests")

            # The same paths with tiny contents: everything but the contents
            # (path backlog, threads, connections) costs what it costs here.
            write_backlog(dirs["inbox"], TINY_SIZE)
            limit = rss_limit(idle)
            tiny = stalled_run(tmp, cfg, fake, dirs, TINY_SIZE, "tiny", limit)
            note(f"idle dropd VmHWM {idle / KIB:.1f} MiB; {N_FILES} waiting files of {TINY_SIZE} B: "
                 f"{tiny / KIB:.1f} MiB (paths, threads, connections)")

            write_backlog(dirs["inbox"], FILE_SIZE)
            backlog = N_FILES * FILE_SIZE
            peak = stalled_run(tmp, cfg, fake, dirs, FILE_SIZE, "64KiB", limit)
            contents = (peak - tiny) * KIB
            bound = (MAX_IN_FLIGHT + READ_AHEAD + MARGIN_FILES) * FILE_SIZE * 3
            check(contents < bound,
                  f"contents cost {contents / MIB:.2f} MiB of RSS (VmHWM {peak / KIB:.1f} MiB vs "
                  f"{tiny / KIB:.1f} MiB with tiny files), bound ({MAX_IN_FLIGHT} in flight + "
                  f"{READ_AHEAD} read-ahead + {MARGIN_FILES}) x 64 KiB x 3 = {bound / MIB:.2f} MiB")
            note(f"{N_FILES} waiting files of 64 KiB ({backlog / MIB:.0f} MiB backlog), endpoint stalled: "
                 f"{MAX_IN_FLIGHT} requests in flight, VmHWM {peak / KIB:.1f} MiB (< {limit / MIB:.0f} MiB), contents "
                 f"{contents / MIB:.2f} MiB < {bound / MIB:.2f} MiB; growth over idle "
                 f"{(peak - idle) / KIB:.1f} MiB")
            note("each run: SIGTERM -> daemon.stopping (still draining), second SIGTERM -> "
                 "daemon.stop_now, exit 0; all files still in the inbox, unchanged; nothing written")
        finally:
            fake.stop()


if __name__ == "__main__":
    run_main("test_memory_bound", main)
