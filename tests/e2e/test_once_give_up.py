#!/usr/bin/python3
"""`dropd --once` gives up on an endpoint that will not heal by itself.

(a) 401 on every request: the endpoint is paused (auth); once it has been
    paused for longer than --give-up-after, dropd logs once.give_up at
    warning level with state=paused and exits 1;
(b) 500 on every request: the endpoint is down; the same with state=down.
Each run: every file is still in the inbox, no result, no error record,
nothing moved.
"""

import os
import re
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 12
GIVE_UP_AFTER_MS = 1000


def give_up_run(tmp, label, faults, state):
    root = os.path.join(tmp, label)
    os.makedirs(root)
    fake = Fake(root, faults=faults)
    try:
        cfg = os.path.join(root, "dropd.yaml")
        # A pause lasts max_backoff (200 ms): the 401 case is probed again
        # several times before it gives up.
        dirs = write_config(cfg, root, fake.url, max_in_flight=4, retry=("2", "50ms", "200ms"))
        os.makedirs(dirs["inbox"])
        files = {f"sub{i % 2}/f{i:02}.txt": f"file {i}\n".encode() for i in range(N_FILES)}
        write_files(dirs["inbox"], files)
        started = time.monotonic()
        res = run_dropd(["--once", "--config", cfg, "--give-up-after", f"{GIVE_UP_AFTER_MS}ms"],
                        cwd=root, timeout=30)
        took = time.monotonic() - started
        err = res.stderr.decode("utf-8", "replace")
        check(res.returncode == 1, f"[{label}] exit {res.returncode}, want 1:\n{err[-2000:]}")
        lines = [l for l in err.splitlines() if "once.give_up" in l]
        check(len(lines) == 1, f"[{label}] {len(lines)} once.give_up lines:\n{err[-2000:]}")
        line = lines[0]
        m = re.search(r"\bwarn(ing)?\b.*once\.give_up endpoint=fake state=(\w+) error=\"(?:[^\"\\]|\\.)+\" "
                      r"waited_ms=(\d+) hint=\"files stay in the inbox; fix it and run again\"",
                      line)
        check(m is not None, f"[{label}] unexpected give-up line: {line!r}")
        check(m.group(2) == state, f"[{label}] state={m.group(2)}, want {state}")
        check(int(m.group(3)) > GIVE_UP_AFTER_MS, f"[{label}] waited_ms={m.group(3)}")
        check("once.interrupted" not in err, f"[{label}] once.interrupted logged too")
        check(list_files(dirs["inbox"]) == set(files),
              f"[{label}] inbox changed: {sorted(set(files) ^ list_files(dirs['inbox']))[:5]}")
        for folder in ("outbox", "done", "failed"):
            check(not list_files(dirs[folder]), f"[{label}] {folder} not empty: "
                  f"{sorted(list_files(dirs[folder]))[:5]}")
        sent = fake.requests()
        check(sent and all(e["status"] != 200 for e in sent),
              f"[{label}] requests: {len(sent)}, some answered 200?")
        note(f"({label}) {line.split('once.give_up ', 1)[1][:110]!r}; exit 1 after {took:.1f} s, "
             f"{len(sent)} requests, all {N_FILES} files still in the inbox, no records")
    finally:
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-give-up-") as tmp:
        give_up_run(tmp, "401", ["status=401"], "paused")
        give_up_run(tmp, "500", ["status=500"], "down")


if __name__ == "__main__":
    run_main("test_once_give_up", main)
