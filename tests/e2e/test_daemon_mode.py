#!/usr/bin/python3
"""dropd in daemon mode: files dropped after start, clean stop on SIGTERM,
and a watched folder that appears only later.

Checks: `daemon.ready` on an empty inbox; a file written directly; a file
written slowly through an open fd is not taken before the writer closes it
(nor before the settle time after the close) and its result covers the whole
text; the atomic writer pattern (`.x.tmp` then rename) sends only the final
name; a subfolder made after start with files in it; SIGTERM gives exit 0,
`daemon.stopping`, `daemon.stopped`; every file exactly one outcome and one
request. A missing watched folder: `watch.missing_root`, the daemon keeps
running, and files are processed once the folder exists (rescan 1s).
"""

import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

SETTLE_S = 0.2


def result_path(dirs, rel):
    return os.path.join(dirs["outbox"], rel + ".json")


def await_result(dirs, rel, timeout=10):
    """The result of rel, once its source has been moved to done too (the move
    follows the result: a test that deletes the inbox next must wait for it)."""
    path = result_path(dirs, rel)
    moved = os.path.join(dirs["done"], rel)
    wait_until(lambda: os.path.exists(path) and os.path.exists(moved), timeout,
               f"the result of {rel!r} and its moved source")
    return load_json(path)


def check_content(doc, rel, data):
    want = fake_content(user_message(rel, data))
    check(doc["llm"]["content"] == want, f"content of {rel!r}: {doc['llm']['content']!r}, want {want!r}")
    check(doc["stats"]["bytes"] == len(data), f"{rel!r}: stats.bytes {doc['stats']['bytes']}, want {len(data)}")


def main_scenario(tmp):
    fake = Fake(tmp)
    dropd = None
    try:
        cfg = os.path.join(tmp, "dropd.yaml")
        # No rescans: discovery is inotify only, so the open-fd check below
        # sees what inotify makes of a writer that pauses longer than settle.
        dirs = write_config(cfg, tmp, fake.url, settle="200ms", rescan="0", max_in_flight=4)
        os.makedirs(dirs["inbox"])
        inbox = dirs["inbox"]
        dropd = start_dropd(["--config", cfg], cwd=tmp)
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        check(dropd.popen.poll() is None, "dropd exited after daemon.ready")
        note("daemon.ready logged on an empty inbox")
        written = {}

        # 1. Written directly.
        data = english_text(random.Random(1), 300)
        with open(os.path.join(inbox, "direct.txt"), "wb") as f:
            f.write(data)
        written["direct.txt"] = data
        check_content(await_result(dirs, "direct.txt"), "direct.txt", data)
        note("a file written directly is processed with its full content")

        # 2. Written slowly through one open fd, pausing longer than settle.
        parts = [english_text(random.Random(10 + i), 50) for i in range(4)]
        slow = os.path.join(inbox, "slow.txt")
        with open(slow, "wb") as f:
            for part in parts:
                f.write(part)
                f.flush()
                os.fsync(f.fileno())
                time.sleep(SETTLE_S * 1.5)  # the slow writer under test, not synchronisation
                check(not os.path.exists(result_path(dirs, "slow.txt")),
                      "slow.txt was processed while its writer still had it open")
                check(os.path.exists(slow), "slow.txt was moved while its writer still had it open")
        closed_at = time.monotonic()
        data = b"".join(parts)
        written["slow.txt"] = data
        doc = await_result(dirs, "slow.txt")
        waited = time.monotonic() - closed_at
        check_content(doc, "slow.txt", data)
        check(waited >= SETTLE_S - 0.01, f"slow.txt processed {waited:.3f} s after close, before settle")
        note(f"slow writer: nothing taken during {len(parts)} writes with pauses > settle; "
             f"result {waited:.2f} s after close covers all {len(data)} bytes")

        # 3. The atomic writer pattern: temp name (excluded), then rename.
        data = english_text(random.Random(2), 200)
        tmp_path = os.path.join(inbox, ".x.tmp")
        with open(tmp_path, "wb") as f:
            f.write(data)
        os.rename(tmp_path, os.path.join(inbox, "atomic.txt"))
        written["atomic.txt"] = data
        check_content(await_result(dirs, "atomic.txt"), "atomic.txt", data)
        note("temp file renamed into place: processed under its final name")

        # 4. A subfolder tree made after start, files written at once.
        os.makedirs(os.path.join(inbox, "newdir", "deeper"))
        for i, rel in enumerate(["newdir/one.txt", "newdir/two.txt", "newdir/deeper/three.txt"]):
            data = english_text(random.Random(20 + i), 100)
            with open(os.path.join(inbox, rel), "wb") as f:
                f.write(data)
            written[rel] = data
        for rel in ["newdir/one.txt", "newdir/two.txt", "newdir/deeper/three.txt"]:
            check_content(await_result(dirs, rel), rel, written[rel])
        note("files in a subfolder created after start are processed")

        # 5. SIGTERM: clean stop.
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(15)
        log = dropd.stderr.text()
        check(rc == 0, f"exit code {rc} after SIGTERM, want 0; log:\n{log[-2000:]}")
        dropd.stderr.wait_for(r"daemon\.stopping", 1)
        dropd.stderr.wait_for(r"daemon\.stopped", 1)
        note("SIGTERM: exit 0, daemon.stopping and daemon.stopped logged")

        check_outcomes(dirs, set(written))
        check(not os.path.exists(result_path(dirs, ".x.tmp")), "the temp name got a result")
        shas = sorted(e["sha256"] for e in fake.requests())
        want = sorted(sha256(user_message(rel, d)) for rel, d in written.items())
        check(shas == want, f"{len(shas)} requests for {len(want)} files: some file was sent "
                            f"twice, not at all, or with other content")
        note(f"{len(written)} files: exactly one outcome and exactly one request each")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()


def missing_root_scenario(tmp):
    fake = Fake(tmp)
    dropd = None
    try:
        cfg = os.path.join(tmp, "dropd.yaml")
        # No rescans: a missing or lost root is looked at again every 2 s anyway.
        dirs = write_config(cfg, tmp, fake.url, settle="100ms", rescan="0")
        check(not os.path.exists(dirs["inbox"]), "setup: inbox must not exist")
        dropd = start_dropd(["--config", cfg], cwd=tmp)
        i = dropd.stderr.wait_for(r"watch\.missing_root", 10)
        line = dropd.stderr.lines[i]
        check(re.search(r"\berror\b", line) is not None,
              f"watch.missing_root is not logged at error level: {line!r}")
        check(dirs["inbox"] in line, f"watch.missing_root does not name the folder: {line!r}")
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        check(dropd.popen.poll() is None, "dropd exited on a missing watched folder")
        note(f"missing folder: {line.split(' ', 1)[1]!r}; daemon keeps running")

        os.makedirs(os.path.join(dirs["inbox"], "sub"))
        written = {"late.txt": b"written after the folder appeared\n",
                   "sub/late2.txt": b"and one in a subfolder of it\n"}
        for rel, data in written.items():
            with open(os.path.join(dirs["inbox"], rel), "wb") as f:
                f.write(data)
        for rel, data in written.items():
            check_content(await_result(dirs, rel, timeout=10), rel, data)
        check(dropd.popen.poll() is None, "dropd exited")
        # Written after the rescan found the folder: inotify must now see it.
        data = b"a file written once the folder is watched\n"
        with open(os.path.join(dirs["inbox"], "after.txt"), "wb") as f:
            f.write(data)
        written["after.txt"] = data
        check_content(await_result(dirs, "after.txt", timeout=10), "after.txt", data)

        # The root deleted and made again: watched afresh, without rescans.
        shutil.rmtree(dirs["inbox"])
        dropd.stderr.wait_for(r"watch\.root_lost", 10)
        os.makedirs(dirs["inbox"])
        dropd.stderr.wait_for(r"watch\.root_back", 10)
        data = b"a file written into the root made again\n"
        with open(os.path.join(dirs["inbox"], "again.txt"), "wb") as f:
            f.write(data)
        written["again.txt"] = data
        check_content(await_result(dirs, "again.txt", timeout=10), "again.txt", data)
        check(len(re.findall(r"watch\.failed", dropd.stderr.text())) <= 2,
              "watch.failed logged at every retry, not once per cause")
        note("root deleted and made again: watched afresh within the 2 s retry")
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(15)
        check(rc == 0, f"exit code {rc} after SIGTERM, want 0")
        check_outcomes(dirs, set(written))
        note("folder created later: its files processed without rescans, exit 0 on SIGTERM")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-daemon-") as tmp:
        main_scenario(tmp)
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-missing-") as tmp:
        missing_root_scenario(tmp)


if __name__ == "__main__":
    run_main("test_daemon_mode", main)
