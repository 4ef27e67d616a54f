"""inotify's queue overflows: nothing is missed.

As root the test lowers fs.inotify.max_queued_events to 64 while dropd
creates its inotify instance (the kernel copies the limit at creation), puts
it back at once, then drops 3,000 files into the watched tree in one burst
with periodic rescans off and dropd stopped (SIGSTOP) during the burst: only
the overflow rescan can find what the queue lost. Every file must get exactly one outcome, and dropd must log
watch.overflow. Without root the burst alone may or may not overflow the
default queue; the outcome check holds either way.
"""

import os
import random
import signal
import tempfile

import dropd_e2e as e2e

SYSCTL = "/proc/sys/fs/inotify/max_queued_events"
FILES = 3000


def main():
    e2e.require_binaries()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="dropd-overflow-") as work:
        fake = e2e.Fake(work, request_log=False)
        dropd = None
        saved = None
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, rescan="0", settle="0ms")
            os.makedirs(dirs["inbox"])
            if os.access(SYSCTL, os.W_OK):
                with open(SYSCTL) as f:
                    saved = f.read().strip()
                with open(SYSCTL, "w") as f:
                    f.write("64")
            dropd = e2e.start_dropd(["--config", config])
            dropd.stderr.wait_for(r"daemon\.ready", 10)
            if saved is not None:
                with open(SYSCTL, "w") as f:
                    f.write(saved)
                saved = None
            # dropd is stopped during the burst, so the queue cannot be drained
            # meanwhile: it overflows for sure, however busy the machine is.
            dropd.signal(signal.SIGSTOP)
            expected = set()
            for i in range(FILES):
                rel = f"f{i:05d}.txt"  # in the watched root: one event each
                path = os.path.join(dirs["inbox"], rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(e2e.english_text(rng, 20))
                expected.add(rel)
            dropd.signal(signal.SIGCONT)
            e2e.wait_until(lambda: len(e2e.list_files(dirs["done"])) >= FILES, 120,
                           f"{FILES} files done")
            dropd.signal(signal.SIGTERM)
            e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
            ok, bad = e2e.check_outcomes(dirs, expected)
            e2e.check(len(ok) == FILES and not bad, f"{len(ok)} ok, {len(bad)} failed")
            overflowed = "watch.overflow" in dropd.stderr.text()
            if os.geteuid() == 0:
                e2e.check(overflowed, "the queue was lowered to 64 but dropd logged no watch.overflow")
            e2e.note(f"{FILES} files in one burst, overflow={overflowed}: each has exactly one outcome")
        finally:
            if saved is not None:
                with open(SYSCTL, "w") as f:
                    f.write(saved)
            if dropd:
                dropd.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_inotify_overflow", main)
