"""One dropd per state_dir: a second one is refused before it touches anything.

Issue 10: `dropd --once` run while the service ran on the same state_dir
renamed the daemon's temp files and sent the same files again. Now dropd
locks state_dir/dropd.lock (flock) for its whole life:

- while a daemon runs, `dropd --once` and a second daemon exit 1 with one
  error naming the daemon's pid and the lock file, and touch nothing: a
  stale-looking temp record the first one would remove at start stays, the
  endpoint gets no request, the file in the inbox is still there for the
  daemon;
- a SIGHUP reload keeps the lock;
- after SIGKILL of the daemon (the lock file stays behind, with its pid) a
  new daemon starts and sends files.
"""

import os
import signal
import tempfile

import dropd_e2e as e2e


def check_refused(name, config, holder, dirs, fake, extra=()):
    requests = len(fake.requests())
    out = e2e.run_dropd(["--config", config] + list(extra), timeout=20)
    err = out.stderr.decode()
    e2e.check(out.returncode == 1, f"[{name}] exit {out.returncode}, want 1: {err[-800:]!r}")
    lines = [line for line in err.splitlines() if line.strip()]
    e2e.check(len(lines) == 1, f"[{name}] want one error line, got {lines!r}")
    lock = os.path.join(dirs["state"], "dropd.lock")
    want = f"state_dir {dirs['state']} is in use by dropd pid {holder.pid} (lock {lock})"
    e2e.check(want in lines[0], f"[{name}] want {want!r} in {lines[0]!r}")
    e2e.check(os.path.exists(os.path.join(dirs["outbox"], ".stale.txt.0badc0de.dropd-tmp")),
              f"[{name}] the stale temp record was removed")
    e2e.check(len(fake.requests()) == requests, f"[{name}] the endpoint got a request")
    e2e.note(f"{name}: exit 1, {lines[0][lines[0].find('state_dir'):][:90]}...")


def start_daemon(config, what):
    dropd = e2e.start_dropd(["--config", config])
    try:
        dropd.stderr.wait_for(r"daemon\.start mode=daemon", 10)
    except e2e.TestFailure:
        dropd.kill()
        raise e2e.TestFailure(f"{what} did not start: {dropd.stderr.text()[-800:]}")
    return dropd


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-state-lock-") as work:
        fake = e2e.Fake(work)
        first = second = None
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, rescan="0")
            first = start_daemon(config, "the first daemon")
            e2e.write_files(dirs["inbox"], {"one.txt": b"sent by the first daemon\n"})
            first.stderr.wait_for(r'job\.done .*file="one\.txt"', 20)
            # A temp record as a crash leaves it; a dropd that got past the
            # lock would remove it at start (recovery.temps_removed).
            e2e.write_files(dirs["outbox"], {".stale.txt.0badc0de.dropd-tmp": b"{}"})

            check_refused("--once beside the daemon", config, first, dirs, fake, ["--once"])
            check_refused("a second daemon", config, first, dirs, fake)
            first.signal(signal.SIGHUP)
            first.stderr.wait_for(r"daemon\.reloaded", 10)
            check_refused("--once after a reload", config, first, dirs, fake, ["--once"])
            e2e.write_files(dirs["inbox"], {"two.txt": b"still the first daemon's\n"})
            first.stderr.wait_for(r'job\.done .*file="two\.txt"', 20)
            e2e.note("the daemon still works after the refusals")

            first.popen.send_signal(signal.SIGKILL)
            first.wait(10)
            with open(os.path.join(dirs["state"], "dropd.lock")) as f:
                e2e.check(f.read().strip() == str(first.pid), "the lock file lost the pid")
            second = start_daemon(config, "a daemon after SIGKILL of the first")
            e2e.write_files(dirs["inbox"], {"three.txt": b"sent by the next daemon\n"})
            second.stderr.wait_for(r'job\.done .*file="three\.txt"', 20)
            with open(os.path.join(dirs["state"], "dropd.lock")) as f:
                e2e.check(f.read().strip() == str(second.pid), "the new daemon's pid is not there")
            e2e.note("after SIGKILL a new daemon starts, takes the lock and sends files")
            second.signal(signal.SIGTERM)
            e2e.check(second.wait(10) == 0, "the second daemon did not stop cleanly")
        finally:
            for proc in (first, second):
                if proc is not None:
                    proc.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_state_lock", main)
