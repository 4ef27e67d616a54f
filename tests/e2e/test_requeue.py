"""dropd requeue: failed files go back to the inbox and run again.

Two binary files fail as skipped (binary: skip); after the operator fixes the
cause (binary: send), `dropd requeue --failed sub` moves only the selected one
back, forgets its ledger row, and the next run sends it. Then `requeue
--failed` with no path takes the rest.
"""

import os
import tempfile

import dropd_e2e as e2e


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-requeue-") as work:
        fake = e2e.Fake(work)
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, binary="skip")
            e2e.write_files(dirs["inbox"], {"sub/a.bin": b"a\0b", "b.bin": b"c\0d"})
            first = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(first.returncode == 3, f"first run exit {first.returncode}")
            e2e.check(e2e.list_files(dirs["failed"]) ==
                      {"sub/a.bin", "sub/a.bin.error.json", "b.bin", "b.bin.error.json"},
                      f"failed folder: {e2e.list_files(dirs['failed'])}")
            e2e.write_config(config, work, fake.url, binary="send")
            out = e2e.run_dropd(["requeue", "--config", config, "--failed", "sub"])
            e2e.check(out.returncode == 0, f"requeue exit {out.returncode}: {out.stderr!r}")
            e2e.check(b"requeued 1 failed files, forgot 1 ledger rows" in out.stdout, out.stdout)
            e2e.check(e2e.list_files(dirs["inbox"]) == {"sub/a.bin"}, "only sub/a.bin is back")
            second = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(second.returncode == 0, f"second run exit {second.returncode}")
            e2e.check(os.path.exists(os.path.join(dirs["outbox"], "sub/a.bin.json")), "no result")
            e2e.check(e2e.list_files(dirs["failed"]) == {"b.bin", "b.bin.error.json"},
                      "the other failure stays where it was")
            rest = e2e.run_dropd(["requeue", "--config", config, "--failed"])
            e2e.check(b"requeued 1 failed files" in rest.stdout, rest.stdout)
            third = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(third.returncode == 0, f"third run exit {third.returncode}")
            e2e.check(not e2e.list_files(dirs["failed"]), "the failed folder is empty")
            e2e.note("requeue --failed moves the selected failures back; the next run sends them")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_requeue", main)
