#!/usr/bin/python3
"""dropd tells systemd what it does: the test plays systemd's side.

It binds its own NOTIFY_SOCKET (an AF_UNIX datagram socket in a temp dir)
and sets WATCHDOG_USEC=400000 (WATCHDOG_PID stays unset: the child's pid is
not known before it starts, and sd_watchdog_enabled() accepts its absence).
Over a start, a reload and a stop in daemon mode it must hear, in order:
READY=1, a STATUS= line with the counts (sent again once files are done),
WATCHDOG=1 (every 200 ms, half the timeout), RELOADING=1 with
MONOTONIC_USEC after SIGHUP, READY=1 once the reload is over, STOPPING=1
after SIGTERM; and dropd exits 0.
"""

import contextlib
import os
import re
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 5
STATUS = r"^STATUS=(\d+) queued, (\d+) in flight, (\d+) done, (\d+) failed$"


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-notify-") as work, \
            contextlib.ExitStack() as cleanup:
        fake = Fake(work)
        cleanup.callback(fake.stop)
        notify = NotifySocket(work)
        cleanup.callback(notify.close)
        config = os.path.join(work, "dropd.yaml")
        dirs = write_config(config, work, fake.url)
        os.makedirs(dirs["inbox"])
        env = dict(notify.env(), WATCHDOG_USEC="400000")
        env.pop("WATCHDOG_PID", None)
        dropd = Proc([DROPD_BIN, "--config", config], env=env)
        cleanup.callback(dropd.kill)
        ready = notify.wait_for(r"^READY=1$", 10)
        line = dropd.stderr.lines[dropd.stderr.wait_for(r"systemd\.watchdog", 5)]
        check("timeout_ms=400 ping_every_ms=200" in line, f"watchdog line: {line!r}")
        first = notify.wait_for(STATUS, 5, start=ready)
        note(f"READY=1, then {notify.lines[first]!r}; {line[line.index('systemd.watchdog'):]}")

        files = {f"f{i}.txt": f"file {i}\n".encode() for i in range(N_FILES)}
        write_files(dirs["inbox"], files)
        done = notify.wait_for(rf"^STATUS=0 queued, 0 in flight, {N_FILES} done, 0 failed$", 15,
                               start=first)
        statuses = [m for m in notify.lines[first:done + 1] if m.startswith("STATUS=")]
        check(len(statuses) == len(set(statuses)), f"a STATUS= sent twice unchanged: {statuses}")
        watchdog = notify.wait_for(r"^WATCHDOG=1$", 5, start=done)
        note(f"{notify.lines[done]!r} once the files are done; WATCHDOG=1 after it")

        dropd.signal(signal.SIGHUP)
        reloading = notify.wait_for(r"^RELOADING=1\nMONOTONIC_USEC=\d+$", 10, start=watchdog)
        ready_again = notify.wait_for(r"^READY=1$", 20, start=reloading)
        note("SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1")

        # Keep-alives keep coming at half the timeout while the loop turns.
        since = time.monotonic()
        wait_until(lambda: sum(1 for m in notify.lines[ready_again:] if m == "WATCHDOG=1") >= 3,
                   5, "three more WATCHDOG=1")
        took = time.monotonic() - since
        check(took >= 0.3, f"three WATCHDOG=1 within {took:.2f} s: faster than every 200 ms")

        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(30)
        check(rc == 0, f"exit {rc} after SIGTERM, want 0")
        stopping = notify.wait_for(r"^STOPPING=1$", 5, start=ready_again)
        order = [m.split("\n")[0] for m in notify.lines]
        kinds = [re.sub(r"=.*", "", m) for m in order]
        check("READY" not in kinds[stopping + 1:], f"READY after STOPPING: {order[stopping:]}")
        note(f"SIGTERM: STOPPING=1, exit 0; {len(order)} messages, "
             f"{kinds.count('WATCHDOG')} WATCHDOG=1, {kinds.count('STATUS')} STATUS=")


if __name__ == "__main__":
    run_main("test_systemd_notify", main)
