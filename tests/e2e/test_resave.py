#!/usr/bin/python3
"""A file saved again while its first version is in flight (issue 10, case 2).

Editors save in place (truncate and write) or atomically (write a temp
name, rename it over the old one); exporters write the same name again.
When that happens while dropd is sending the first version, the move,
delete or keep that ends the first job must touch only the version that was
read, and the new version must be sent as a job of its own.

For each on_success action (move, delete, keep) and each way of saving
(in place, rename over): the fake holds the first version's answer (its
`delay` fault matches only that content), the second version is written
once the first is on the wire (dropd's `llm.sending` debug line), then:
both versions were sent exactly once each; `report.txt.json` is the first
version's result and `report.txt.1.json` the second's; with move, done/
holds the second version and the inbox is empty; with delete the inbox is
empty; with keep the second version is still in the inbox and not sent
again.
"""

import os
import re
import signal
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

NAME = "report.txt"
V1 = b"VERSIONONE the first export of the report\n"
V2 = b"the second export of the report, longer than the first one\n"


def save(path, data, how):
    if how == "in-place":
        with open(path, "wb") as f:
            f.write(data)
    else:  # an editor's atomic save: a temp name (excluded), then rename over
        temp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        with open(temp, "wb") as f:
            f.write(data)
        os.rename(temp, path)


def scenario(tmp, action, how):
    label = f"{action}/{how}"
    root = os.path.join(tmp, f"{action}-{how}")
    os.makedirs(root)
    fake = Fake(root, faults=["delay=1500ms,match=VERSIONONE"])
    dropd = None
    try:
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, fake.url, settle="100ms", rescan="0", log_level="debug",
                            on_success=action)
        os.makedirs(dirs["inbox"])
        dropd = start_dropd(["--config", cfg], cwd=root)
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        src = os.path.join(dirs["inbox"], NAME)
        save(src, V1, "in-place")
        dropd.stderr.wait_for(r'llm\.sending .*file="report\.txt"', 10)
        save(src, V2, how)

        first = os.path.join(dirs["outbox"], NAME + ".json")
        second = os.path.join(dirs["outbox"], NAME + ".1.json")
        wait_until(lambda: os.path.exists(first) and os.path.exists(second), 15,
                   f"[{label}] a result for each version")
        if action == "move":
            wait_until(lambda: not os.path.exists(src), 10, f"[{label}] the second move")
        elif action == "delete":
            wait_until(lambda: not os.path.exists(src), 10, f"[{label}] the second delete")
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(30)
        dropd_log = dropd.stderr.text()
        dropd = None
        check(rc == 0, f"[{label}] exit {rc}")

        r1, r2 = load_json(first), load_json(second)
        check(r1["source"]["sha256"] == sha256(V1),
              f"[{label}] {NAME}.json is not the first version's result")
        check(r2["source"]["sha256"] == sha256(V2),
              f"[{label}] {NAME}.1.json is not the second version's result")
        check(r2["llm"]["content"] == fake_content(user_message(NAME, V2)),
              f"[{label}] the second result does not hold the second version's answer")
        sent = [e["sha256"] for e in fake.requests()]
        for version, data in (("first", V1), ("second", V2)):
            n = sent.count(sha256(user_message(NAME, data)))
            check(n == 1, f"[{label}] the {version} version was sent {n} times, want 1")
        check(len(sent) == 2, f"[{label}] {len(sent)} requests, want 2")
        outbox = sorted(list_files(dirs["outbox"]))
        check(outbox == [NAME + ".1.json", NAME + ".json"], f"[{label}] outbox holds {outbox}")
        inbox = sorted(list_files(dirs["inbox"]))
        if action == "move":
            check(inbox == [], f"[{label}] inbox holds {inbox}")
            done = sorted(list_files(dirs["done"]))
            check(done == [NAME], f"[{label}] done/ holds {done}")
            with open(os.path.join(dirs["done"], NAME), "rb") as f:
                check(f.read() == V2, f"[{label}] done/{NAME} is not the second version")
        elif action == "delete":
            check(inbox == [], f"[{label}] inbox holds {inbox}")
        else:
            check(inbox == [NAME], f"[{label}] inbox holds {inbox}")
            with open(src, "rb") as f:
                check(f.read() == V2, f"[{label}] the kept source is not the second version")
        check("job.source_changed" in dropd_log, f"[{label}] no job.source_changed line")
        check(not re.search(r"Z (warning|error|critical) ", dropd_log),
              f"[{label}] errors or warnings logged:\n{dropd_log[-2000:]}")
        note(f"[{label}] each version its own result, sent once")
    finally:
        if dropd is not None:
            dropd.kill()
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-resave-") as tmp:
        for action in ("move", "delete", "keep"):
            for how in ("in-place", "rename"):
                scenario(tmp, action, how)


if __name__ == "__main__":
    run_main("re-save while in flight", main)
