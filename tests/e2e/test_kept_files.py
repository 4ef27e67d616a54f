"""Files kept in place are finished once: restarts look them up in the ledger.

on_success and on_failure keep: the sources stay in the inbox. A first --once
run sends every text file and skips a binary one. A second run, over the same
inbox, sends nothing and writes nothing: each file is looked up in the ledger
by (path, device, inode, size, mtime), not held in memory. Then one file is
appended to and one is replaced by a new file under the same name: the third
run sends exactly those two, and their results go beside the first ones
(`<rel>.1.json`). A rescan in daemon mode sends nothing either.
"""

import os
import random
import signal
import tempfile

import dropd_e2e as e2e

FILES = 60


def results(outbox):
    return {rel for rel in e2e.list_files(outbox) if rel.endswith(".json")}


def main():
    e2e.require_binaries()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="dropd-kept-") as work:
        fake = e2e.Fake(work)
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, on_success="keep",
                                    on_failure="keep", rescan="300ms", log_level="debug")
            files = {f"d{i % 3}/f{i:03d}.txt": e2e.english_text(rng, 20)
                     for i in range(FILES)}
            files["blob.bin"] = b"a\0b"
            e2e.write_files(dirs["inbox"], files)

            first = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(first.returncode == 3, f"first run exit {first.returncode} (one skipped)")
            sent_first = len(fake.requests())
            e2e.check(sent_first == FILES, f"first run sent {sent_first}")
            after_first = results(dirs["outbox"])
            e2e.check(len(after_first) == FILES + 1, f"{len(after_first)} records")
            e2e.check(e2e.list_files(dirs["inbox"]) == set(files), "the sources stay")

            second = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(second.returncode == 0, f"second run exit {second.returncode}: "
                      f"{second.stderr[-1500:]!r}")
            e2e.check(len(fake.requests()) == sent_first,
                      f"second run sent {len(fake.requests()) - sent_first}")
            e2e.check(results(dirs["outbox"]) == after_first, "second run wrote records")
            e2e.note(f"restart over {FILES + 1} kept files: nothing sent, nothing written")

            with open(os.path.join(dirs["inbox"], "d0/f000.txt"), "ab") as f:
                f.write(b"one more line\n")
            replaced = os.path.join(dirs["inbox"], "d1/f001.txt")
            os.unlink(replaced)  # a new file (new inode) under the old name
            e2e.write_files(dirs["inbox"], {"d1/f001.txt": b"a new report\n"})
            third = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(third.returncode == 0, f"third run exit {third.returncode}")
            new = results(dirs["outbox"]) - after_first
            e2e.check(new == {"d0/f000.txt.1.json", "d1/f001.txt.1.json"}, f"new records {new}")
            e2e.check(len(fake.requests()) == sent_first + 2,
                      f"third run sent {len(fake.requests()) - sent_first}")
            e2e.note("an appended file and a replaced one are new versions: sent once each")

            daemon = e2e.start_dropd(["--config", config])
            try:
                at = 0
                for _ in range(4):  # the start's walk, then rescans every 300 ms
                    at = daemon.stderr.wait_for(r'scan\.done pipeline=e2e .*from="" files=61',
                                                10, start=at) + 1
                e2e.check(len(fake.requests()) == sent_first + 2, "a rescan sent a kept file")
            finally:
                daemon.signal(signal.SIGTERM)
                daemon.wait(10)
                daemon.kill()
            e2e.note("three rescans over the kept files sent nothing")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_kept_files", main)
