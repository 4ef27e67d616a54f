"""A ledger dropd cannot trust stops it at start: the path named, nothing touched.

Each case puts something in the state_dir, drops a file into the inbox and
runs `dropd --once`: exit 1, an error naming the ledger or state_dir path
and saying what to do, and the file still in the inbox with no result:

- a foreign SQLite database (another program's ledger.db);
- a file that is not SQLite at all;
- a dropd ledger from a newer schema (user_version above this dropd's);
- a state_dir that is a file, not a folder.
"""

import os
import sqlite3
import tempfile

import dropd_e2e as e2e


def foreign(state):
    db = sqlite3.connect(os.path.join(state, "ledger.db"))
    db.execute("CREATE TABLE notes (text TEXT)")
    db.commit()
    db.close()


def garbage(state):
    with open(os.path.join(state, "ledger.db"), "wb") as f:
        f.write(b"this is not a database, it is a grocery list\n" * 200)


def newer(state):
    db = sqlite3.connect(os.path.join(state, "ledger.db"))
    db.execute("PRAGMA application_id = 1685221476")  # 0x64727064, "drpd"
    db.execute("PRAGMA user_version = 999")
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
    db.commit()
    db.close()


CASES = [
    ("foreign SQLite file", foreign, "not a dropd ledger", "ledger.db"),
    ("not SQLite", garbage, "not a database", "ledger.db"),
    ("newer schema", newer, "newer than this dropd", "ledger.db"),
]


def run_case(work, name, prepare, says, names):
    root = os.path.join(work, name.replace(" ", "-"))
    config = os.path.join(root + ".yaml")
    dirs = e2e.write_config(config, root, "http://127.0.0.1:9/v1/chat/completions")
    if prepare is None:
        os.makedirs(root, exist_ok=True)
        with open(dirs["state"], "w") as f:  # a file where the folder should be
            f.write("x")
    else:
        os.makedirs(dirs["state"])
        prepare(dirs["state"])
    e2e.write_files(dirs["inbox"], {"doc.txt": b"precious\n"})
    out = e2e.run_dropd(["--config", config, "--once"])
    err = out.stderr.decode()
    e2e.check(out.returncode == 1, f"[{name}] exit {out.returncode}, want 1: {err[-500:]!r}")
    e2e.check(says in err, f"[{name}] the error does not say {says!r}: {err[-500:]!r}")
    target = os.path.join(dirs["state"], names) if names else dirs["state"]
    e2e.check(target in err, f"[{name}] the error does not name {target}: {err[-500:]!r}")
    e2e.check(e2e.list_files(dirs["inbox"]) == {"doc.txt"}, f"[{name}] the source moved")
    e2e.check(not e2e.list_files(dirs["outbox"]), f"[{name}] a result was written")
    e2e.note(f"{name}: exit 1, says {says!r}, names the path, source untouched")


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-ledger-refusals-") as work:
        for name, prepare, says, names in CASES:
            run_case(work, name, prepare, says, names)
        run_case(work, "state_dir is a file", None, "state_dir", "")


if __name__ == "__main__":
    e2e.run_main("test_ledger_refusals", main)
