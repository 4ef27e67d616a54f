#!/usr/bin/python3
"""systemd/dropd.service is a valid unit and a tight sandbox.

A copy of the unit, with ExecStart= and the other commands pointing at the
built dropd, must pass `systemd-analyze verify` without a warning about
the file; `systemd-analyze security --offline=yes` must rate it below 2.0
(its table and overall exposure are printed into the test log). The
directives the daemon relies on (Type=notify, WatchdogSec=,
StateDirectory=, ProcSubset=pid keeping /proc/self/mountinfo) are checked
to be there. Skipped (exit 0, "SKIP") where systemd-analyze is missing:
Debian's `systemd` package has it (scripts/bootstrap installs it).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

UNIT = os.path.join(SOURCE_DIR, "systemd", "dropd.service")
MAX_EXPOSURE = 2.0
REQUIRED = ("Type=notify", "WatchdogSec=30s", "StateDirectory=dropd", "ProtectSystem=strict",
            "ProcSubset=pid", "SystemCallFilter=@system-service", "NoNewPrivileges=yes")


def analyze(tool, args):
    # A UTF-8 locale, so the table marks what is left exposed with its ✗.
    env = dict(os.environ, LC_ALL="C.UTF-8", SYSTEMD_COLORS="0")
    return subprocess.run([tool] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, text=True, env=env)


def main():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        print("SKIP test_systemd_unit: systemd-analyze not found (Debian package: systemd)")
        sys.exit(0)
    check(os.access(DROPD_BIN, os.X_OK), f"binary not found or not executable: {DROPD_BIN}")
    text = open(UNIT, encoding="utf-8").read()
    lines = {l.strip() for l in text.splitlines()}
    missing = [d for d in REQUIRED if d not in lines]
    check(not missing, f"the unit lacks {missing}")
    with tempfile.TemporaryDirectory(prefix="dropd-unit-") as tmp:
        unit = os.path.join(tmp, "dropd.service")
        with open(unit, "w", encoding="utf-8") as f:
            f.write(text.replace("/usr/local/bin/dropd", DROPD_BIN))
        res = analyze(tool, ["verify", "--man=no", unit])
        complaints = [l for l in res.stdout.splitlines() if "dropd.service" in l or unit in l]
        check(res.returncode == 0 and not complaints,
              f"systemd-analyze verify: exit {res.returncode}\n{res.stdout}")
        note("systemd-analyze verify: no complaint")

        res = analyze(tool, ["security", "--offline=yes", "--no-pager", unit])
        m = re.search(r"Overall exposure level for dropd\.service: (\d+\.\d+)", res.stdout)
        check(m is not None, f"no exposure level in:\n{res.stdout[-2000:]}")
        exposed = [l.rstrip() for l in res.stdout.splitlines() if l.startswith("✗")]
        print("  systemd-analyze security --offline=yes, what is left exposed:")
        for l in exposed:
            print(f"    {l}")
        score = float(m.group(1))
        print(f"  exposure: {score}")
        check(score < MAX_EXPOSURE, f"exposure {score}, want below {MAX_EXPOSURE}")
        note(f"exposure {score} < {MAX_EXPOSURE}")


if __name__ == "__main__":
    run_main("test_systemd_unit", main)
