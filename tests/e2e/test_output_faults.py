"""The output disk fills up, or the output folder is removed: nothing is lost.

Disk full (as root: the output folder is a 64 KiB tmpfs, filled up before
dropd starts). Five files are answered but their results cannot be written:
dropd logs sink.write_failed, the sources stay in the inbox (nothing in done
or failed), and the job waits. Once space is freed, the retry (every 5 s)
writes every result and moves every source, without a second request.

Output folder removed while running: dropd makes it again for the next
result.

Without root (no tmpfs mount) the disk-full part is skipped with a note.
"""

import os
import shutil
import signal
import subprocess
import tempfile

import dropd_e2e as e2e


def fill(folder):
    """Writes a filler file until the file system is full; returns its path."""
    path = os.path.join(folder, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        pass  # ENOSPC: full
    finally:
        os.close(fd)
    return path


def disk_full(work):
    fake = e2e.Fake(work)
    dropd = None
    config = os.path.join(work, "full.yaml")
    dirs = e2e.write_config(config, os.path.join(work, "full"), fake.url, rescan="0")
    os.makedirs(dirs["outbox"])
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "dropd-test", dirs["outbox"]],
                      capture_output=True).returncode != 0:
        fake.stop()
        print("  SKIP disk full: cannot mount a tmpfs here (needs root)")
        return
    try:
        filler = fill(dirs["outbox"])
        files = {f"r{i}.txt": f"report {i}\n".encode() for i in range(5)}
        dropd = e2e.start_dropd(["--config", config])
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        e2e.write_files(dirs["inbox"], files)
        line = dropd.stderr.lines[dropd.stderr.wait_for(r"sink\.write_failed", 20)]
        e2e.check("No space left on device" in line or "no space" in line.lower(),
                  f"write_failed does not say why: {line!r}")
        e2e.check(e2e.list_files(dirs["inbox"]) == set(files), "a source left the inbox")
        e2e.check(not e2e.list_files(dirs["done"]) and not e2e.list_files(dirs["failed"]),
                  "a source was moved while its result could not be written")
        e2e.note("disk full: sink.write_failed, every source still in the inbox")
        os.unlink(filler)
        e2e.wait_until(lambda: len(e2e.list_files(dirs["done"])) >= len(files), 30,
                       "the results written once space is back")
        ok, bad = e2e.check_outcomes(dirs, set(files))
        e2e.check(len(ok) == len(files) and not bad, f"{len(ok)} ok, {len(bad)} failed")
        e2e.check(len(fake.requests()) == len(files),
                  f"{len(fake.requests())} requests for {len(files)} files: a retry resent")
        for rel in files:
            e2e.load_json(os.path.join(dirs["outbox"], rel + ".json"))
        e2e.note("space freed: every result written by the retry, each file sent once")
        dropd.signal(signal.SIGTERM)
        e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
    finally:
        if dropd is not None:
            dropd.kill()
        subprocess.run(["umount", "-l", dirs["outbox"]])
        fake.stop()


def output_removed(work):
    fake = e2e.Fake(work)
    dropd = None
    try:
        config = os.path.join(work, "removed.yaml")
        dirs = e2e.write_config(config, os.path.join(work, "removed"), fake.url, rescan="0")
        dropd = e2e.start_dropd(["--config", config])
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        e2e.write_files(dirs["inbox"], {"first.txt": b"first\n"})
        e2e.wait_until(lambda: "first.txt" in e2e.list_files(dirs["done"]), 20, "first done")
        shutil.rmtree(dirs["outbox"])
        e2e.write_files(dirs["inbox"], {"second.txt": b"second\n"})
        e2e.wait_until(lambda: "second.txt" in e2e.list_files(dirs["done"]), 20, "second done")
        e2e.check(e2e.list_files(dirs["outbox"]) == {"second.txt.json"},
                  f"outbox now: {e2e.list_files(dirs['outbox'])}")
        e2e.note("output folder removed while running: made again for the next result")
        dropd.signal(signal.SIGTERM)
        e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
    finally:
        if dropd is not None:
            dropd.kill()
        fake.stop()


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-output-") as work:
        disk_full(work)
        output_removed(work)


if __name__ == "__main__":
    e2e.run_main("test_output_faults", main)
