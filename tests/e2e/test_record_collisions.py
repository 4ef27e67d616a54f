#!/usr/bin/python3
"""Records that cannot be written where dropd wants them.

Records are named after the input's relative path (`<rel>.json`,
`<rel>.error.json`), so some legal names land on the same path as another
input's record or moved source. Whatever dropd does about it (fail one file
with a clear record, pick another name), nothing may be lost and --once must
end:

1. `x` and a folder `x.json/` holding `y`: outbox/x.json must be both a file
   (x's result) and a folder (y's result). dropd --once must still finish
   within a bound, each input with exactly one outcome.
2. `a.bin.error.json` fails first (moved to the failed folder), then
   `a.bin` fails: a.bin's error record is the path the other source was
   moved to. Both inputs' bytes and both error records must survive.
3. on_failure keep: `r` fails (record outbox/r.error.json) and `r.error`
   succeeds (result outbox/r.error.json). Both records must survive.
4. (issue 4's bad input) an output folder that cannot be written: --once
   must end (exit 3) with a clear log line, and no input lost.
"""

import os
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

ONCE_BOUND_S = 8


def setup(tmp, name, files, **config):
    root = os.path.join(tmp, name)
    os.makedirs(root)
    fake = Fake(root)
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, root, fake.url, **config)
    write_files(dirs["inbox"], files)
    return root, fake, cfg, dirs


def run_once_bounded(cfg, root, label):
    try:
        res = subprocess.run([DROPD_BIN, "--once", "--config", cfg], cwd=root,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=ONCE_BOUND_S)
    except subprocess.TimeoutExpired as e:
        tail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-3:]
        raise TestFailure(f"[{label}] dropd --once did not finish within {ONCE_BOUND_S} s; "
                          "last log lines:\n  " + "\n  ".join(tail))
    check(res.returncode in (0, 3), f"[{label}] exit {res.returncode}, want 0 or 3")
    return res


def records_and_bytes(folder):
    """(source paths of the records under folder by kind, multiset of all file contents)."""
    records, contents = {"result": [], "error": []}, []
    for rel in list_files(folder):
        path = os.path.join(folder, rel)
        with open(path, "rb") as f:
            data = f.read()
        contents.append(data)
        if rel.endswith(".json"):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            if isinstance(doc, dict) and "source" in doc:
                kind = "error" if "error" in doc else "result" if "llm" in doc else None
                if kind:
                    records[kind].append(doc["source"]["path"])
    return records, contents


def case_result_vs_folder(tmp):
    files = {"x": b"plain text x\n", "x.json/y": b"plain text y\n"}
    root, fake, cfg, dirs = setup(tmp, "result-vs-folder", files)
    try:
        run_once_bounded(cfg, root, "x vs x.json/")
        # Which record lands first decides the shape: x first, then x.json/y
        # cannot get a folder and fails (kind output); x.json/y first, then
        # x's result may not replace that folder and takes x.1.json.
        outbox = list_files(dirs["outbox"])
        if "x.1.json" in outbox:
            check("x.json/y.json" in outbox, f"x.1.json without x.json/y.json: {sorted(outbox)}")
            check(os.path.exists(os.path.join(dirs["done"], "x")), "x was not moved to done")
            check(load_json(os.path.join(dirs["outbox"], "x.1.json"))["source"]["path"] == "x",
                  "x.1.json is not the result of x")
        else:
            check_outcomes(dirs, set(files))
    finally:
        fake.stop()
    note("x and x.json/y: --once finished, each with exactly one outcome")


def case_record_vs_moved_source(tmp):
    # Daemon mode, so the order is fixed: a.bin.error.json fails and is moved
    # first; then a.bin fails and its record is written at that same path.
    files = {"a.bin.error.json": b"\x00binary, named like a record", "a.bin": b"\x00binary a"}
    root, fake, cfg, dirs = setup(tmp, "record-vs-source", {}, settle="50ms")
    os.makedirs(dirs["inbox"])
    dropd = start_dropd(["--config", cfg], cwd=root)
    try:
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        for rel, data in files.items():
            with open(os.path.join(dirs["inbox"], rel), "wb") as f:
                f.write(data)
            wait_until(lambda: not os.path.lexists(os.path.join(dirs["inbox"], rel))
                       and os.path.exists(os.path.join(dirs["failed"], rel)), 10,
                       f"{rel!r} moved to the failed folder")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(10) == 0, "[a.bin vs a.bin.error.json] exit code after SIGTERM")
    finally:
        dropd.kill()
        fake.stop()
    records, contents = records_and_bytes(dirs["failed"])
    for rel, data in files.items():
        check(data in contents or os.path.exists(os.path.join(dirs["inbox"], rel)),
              f"the bytes of input {rel!r} are gone: a.bin's error record was renamed over the "
              f"moved source failed/a.bin.error.json; failed holds {sorted(list_files(dirs['failed']))}")
        check(rel in records["error"],
              f"no error record for {rel!r}; records found for {records['error']}")
    note("a.bin.error.json then a.bin, both failing: both sources and both error records kept")


def case_error_vs_result_keep(tmp):
    files = {"r": b"\x00binary r", "r.error": b"plain text r.error\n"}
    root, fake, cfg, dirs = setup(tmp, "error-vs-result", files, on_failure="keep")
    try:
        run_once_bounded(cfg, root, "r vs r.error")
    finally:
        fake.stop()
    records, _ = records_and_bytes(dirs["outbox"])
    check("r.error" in records["result"], f"no result for 'r.error': {records}")
    check("r" in records["error"],
          f"the error record of 'r' is gone (outbox/r.error.json now holds r.error's result): {records}")
    note("on_failure keep, r fails and r.error succeeds: both records kept")


def case_output_not_writable(tmp):
    # Root ignores permissions, so the output folder is made unwritable by a
    # regular file standing where it should be.
    files = {"one.txt": b"first file\n", "two.txt": b"second file\n"}
    root, fake, cfg, dirs = setup(tmp, "output-blocked", files)
    with open(dirs["outbox"], "wb") as f:
        f.write(b"a file where the output folder should be\n")
    try:
        res = run_once_bounded(cfg, root, "output folder not writable")
    finally:
        fake.stop()
    log = res.stderr.decode("utf-8", "replace")
    check("folder.unwritable" in log, "no folder.unwritable line for the blocked output folder")
    check(res.returncode == 3, f"[output folder not writable] exit {res.returncode}, want 3")
    for rel, data in files.items():
        in_inbox = os.path.exists(os.path.join(dirs["inbox"], rel))
        in_failed = os.path.exists(os.path.join(dirs["failed"], rel)) and \
            os.path.exists(os.path.join(dirs["failed"], rel + ".error.json"))
        check(in_inbox or in_failed, f"{rel!r} is neither in the inbox nor failed with a record")
    note("output folder not writable: --once ends with exit 3, folder.unwritable logged, nothing lost")


def main():
    require_binaries()
    failures = []
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-collide-") as tmp:
        cases = (case_result_vs_folder, case_record_vs_moved_source, case_error_vs_result_keep,
                 case_output_not_writable)
        for case in cases:
            try:
                case(tmp)
            except TestFailure as e:
                failures.append(f"{case.__name__}: {e}")
    check(not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures))


if __name__ == "__main__":
    run_main("test_record_collisions", main)
