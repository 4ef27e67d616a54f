#!/usr/bin/python3
"""Names of any bytes: a property test of the promise (issue 10, cases 1 and 3).

A name on Linux is any bytes but '/' and NUL, up to NAME_MAX (255) bytes:
shares written by Windows or old Samba setups and unpacked archives bring
names that are not UTF-8, and long names are ordinary. For names drawn at
random from all of that (1 to 255 bytes, invalid UTF-8 included), in nested
folders whose names are drawn the same way, every file must end with
exactly one outcome, and a program reading the results must be able to map
each back to its file:

1. `dropd --once` over a tree of such names: exit 0; every source moved to
   done/ under its exact name with its bytes; exactly one result per source,
   found through `source.path` (or `source.path_base64` where the name is
   not UTF-8), holding the answer to its own content; no temp file left.
2. The daemon over 1,000 such files, SIGKILLed part-way and started again:
   the same checks once the inbox is empty.
"""

import base64
import hashlib
import os
import random
import signal
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

SEED = 20261202
NAME_MAX = 255


def random_name(rng, taken):
    """A fresh name: any bytes but '/' and NUL, 1..255 long, weighted to the
    short and to the long end (where temp and record suffixes overflow)."""
    while True:
        kind = rng.random()
        if kind < 0.3:
            n = rng.randint(1, 12)
        elif kind < 0.6:
            n = rng.randint(200, NAME_MAX)
        else:
            n = rng.randint(1, NAME_MAX)
        if rng.random() < 0.25:
            # Valid UTF-8 of several byte widths, cut to fit n bytes.
            text = "".join(chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x7ff),
                                           rng.randint(0x800, 0xd7ff), rng.randint(0x10000, 0x10ffff)]))
                           for _ in range(n)).replace("/", "_")
            name = text.encode("utf-8")
            while len(name) > n:
                text = text[:-1]
                name = text.encode("utf-8")
            if not name:
                continue
        else:
            name = bytes(rng.choice([b for b in range(1, 256) if b != 0x2F]) for _ in range(n))
        if name in (b".", b"..") or name in taken:
            continue
        taken.add(name)
        return name


def make_tree(rng, inbox, n_files):
    """Writes n_files files with random names in random nested folders;
    returns {rel bytes: content bytes}."""
    folders = [b""]
    taken = {b"": set()}
    for _ in range(6):
        parent = rng.choice(folders)
        if parent.count(b"/") >= 1:  # at most two levels: paths stay well under PATH_MAX
            parent = b""
        name = random_name(rng, taken[parent])
        rel = parent + b"/" + name if parent else name
        folders.append(rel)
        taken[rel] = set()
        os.makedirs(os.path.join(os.fsencode(inbox), rel))
    files = {}
    for i in range(n_files):
        folder = rng.choice(folders)
        name = random_name(rng, taken[folder])
        rel = folder + b"/" + name if folder else name
        data = f"file {i}: {rng.random()}\n".encode() + english_text(rng, rng.randint(3, 40))
        with open(os.path.join(os.fsencode(inbox), rel), "wb") as f:
            f.write(data)
        files[rel] = data
    return files


def source_rel(doc):
    """The exact relative path a record is of."""
    source = doc["source"]
    if "path_base64" in source:
        return base64.b64decode(source["path_base64"])
    return source["path"].encode("utf-8")


def walk_bytes(root):
    out = []
    root = os.fsencode(root)
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return out


def check_tree(dirs, files, label):
    problems = []
    inbox_left = walk_bytes(dirs["inbox"])
    if inbox_left:
        problems.append(f"{len(inbox_left)} files left in the inbox, e.g. {inbox_left[:3]!r}")
    temps = [p for d in ("outbox", "done", "failed") for p in walk_bytes(dirs[d])
             if p.endswith(b".dropd-tmp")]
    if temps:
        problems.append(f"temp files left: {temps[:3]!r}")
    failed = walk_bytes(dirs["failed"])
    if failed:
        problems.append(f"{len(failed)} failures, e.g. {failed[:3]!r}")
    for rel, data in files.items():
        moved = os.path.join(os.fsencode(dirs["done"]), rel)
        if not os.path.exists(moved):
            problems.append(f"{rel!r} is not in done/")
        elif open(moved, "rb").read() != data:
            problems.append(f"done/{rel!r} does not hold its bytes")
    records = {}
    for path in walk_bytes(dirs["outbox"]):
        full = os.path.join(os.fsencode(dirs["outbox"]), path)
        doc = load_json(full)
        records.setdefault(source_rel(doc), []).append((path, doc))
        if len(os.path.basename(path)) > NAME_MAX:
            problems.append(f"record name over NAME_MAX: {path!r}")
    for rel, data in files.items():
        got = records.get(rel, [])
        if len(got) != 1:
            problems.append(f"{rel!r}: {len(got)} results, want 1")
            continue
        path, doc = got[0]
        if doc["source"]["sha256"] != hashlib.sha256(data).hexdigest():
            problems.append(f"{rel!r}: its result {path!r} is of other bytes")
        want = fake_content(user_message(os.fsdecode(rel), data))
        if doc["llm"]["content"] != want:
            problems.append(f"{rel!r}: content {doc['llm']['content']!r}, want {want!r}")
        if "path_base64" in doc["source"]:
            shown = doc["source"]["path"].encode("utf-8")
            if shown != rel.decode("utf-8", "replace").encode("utf-8"):
                problems.append(f"{rel!r}: source.path {doc['source']['path']!r} is not the "
                                "name with U+FFFD for its bad bytes")
    unknown = sorted(r for r in records if r not in files)
    if unknown:
        problems.append(f"results for unknown sources: {unknown[:3]!r}")
    check(not problems, f"[{label}] {len(problems)} problems:\n  " + "\n  ".join(problems[:20]))
    not_utf8 = sum(1 for rel in files if not is_utf8(rel))
    long_names = sum(1 for rel in files if len(os.path.basename(rel)) > 230)
    note(f"[{label}] {len(files)} files, one outcome each ({not_utf8} not UTF-8, "
         f"{long_names} names over 230 bytes)")


def is_utf8(data):
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def setup(tmp, name, fake_faults=()):
    root = os.path.join(tmp, name)
    os.makedirs(root)
    fake = Fake(root, faults=fake_faults)
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, root, fake.url, rescan="0")
    with open(cfg, "a", encoding="utf-8") as f:
        f.write("    exclude: []\n")  # every name is a candidate, hidden ones too
    os.makedirs(dirs["inbox"])
    return fake, cfg, dirs


def case_once(tmp):
    fake, cfg, dirs = setup(tmp, "once")
    try:
        files = make_tree(random.Random(SEED), dirs["inbox"], 300)
        res = run_dropd(["--once", "--config", cfg], cwd=tmp, timeout=120)
        check(res.returncode == 0, f"--once exit {res.returncode}: {res.stderr[-1500:]!r}")
        check_tree(dirs, files, "once")
    finally:
        fake.stop()


def case_daemon_restart(tmp):
    fake, cfg, dirs = setup(tmp, "daemon", fake_faults=["delay=5ms"])
    dropd = None
    try:
        files = make_tree(random.Random(SEED + 1), dirs["inbox"], 1000)
        dropd = start_dropd(["--config", cfg], cwd=tmp)
        wait_until(lambda: len(walk_bytes(dirs["done"])) >= 300, 60, "300 files done")
        dropd.signal(signal.SIGKILL)
        dropd.wait(10)
        done_at_kill = len(walk_bytes(dirs["done"]))
        dropd = start_dropd(["--config", cfg], cwd=tmp)
        wait_until(lambda: not walk_bytes(dirs["inbox"]) and
                   len(walk_bytes(dirs["outbox"])) >= len(files), 120, "every file done")
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(30)
        check(rc == 0, f"daemon exit {rc}: {dropd.stderr.text()[-1500:]}")
        dropd = None
        note(f"[daemon] killed with {done_at_kill} of {len(files)} done")
        check_tree(dirs, files, "daemon + SIGKILL + restart")
    finally:
        if dropd is not None:
            dropd.kill()
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-names-") as tmp:
        case_once(tmp)
        case_daemon_restart(tmp)


if __name__ == "__main__":
    run_main("wild names", main)
