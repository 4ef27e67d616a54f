"""The inotify watch limit is reached: dropd says which sysctl to raise and polls.

dropd runs in a user namespace of its own (unshare -U -r) whose
user.max_inotify_watches is 3, so the machine's limit and other tests are
untouched. The watched tree has 13 folders: the walk at start watches the
root and two of them, then inotify_add_watch fails with ENOSPC. dropd must
log watch.limit_reached naming fs.inotify.max_user_watches, give its watches
back, and walk the root every 2 s instead, with rescans off: a file written
after start into a folder that never got a watch is still processed, once.
"""

import os
import signal
import subprocess
import tempfile

import dropd_e2e as e2e

LIMIT = 3
FOLDERS = [f"{top}{sub}" for top in "abcdef" for sub in ("", "/deep")]


def userns_works():
    probe = subprocess.run(["unshare", "-U", "-r", "sh", "-c",
                            f"echo {LIMIT} > /proc/sys/user/max_inotify_watches"],
                           capture_output=True)
    return probe.returncode == 0


def main():
    e2e.require_binaries()
    if not userns_works():
        print("  SKIP: no user namespace here (unshare -U -r failed); the limit cannot be "
              "lowered for dropd alone")
        return
    with tempfile.TemporaryDirectory(prefix="dropd-watch-limit-") as work:
        fake = e2e.Fake(work)
        dropd = None
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, rescan="0", settle="0ms")
            for folder in FOLDERS:
                os.makedirs(os.path.join(dirs["inbox"], folder))
            script = (f"echo {LIMIT} > /proc/sys/user/max_inotify_watches && "
                      'exec "$0" "$@"')
            dropd = e2e.Proc(["unshare", "-U", "-r", "sh", "-c", script, e2e.DROPD_BIN,
                              "--config", config])
            at = dropd.stderr.wait_for(r"watch\.limit_reached", 20)
            line = dropd.stderr.lines[at]
            e2e.check("fs.inotify.max_user_watches" in line and "every 2 s" in line,
                      f"the error does not name the sysctl or the fallback: {line!r}")
            dropd.stderr.wait_for(r"daemon\.ready", 20)
            e2e.note(f"limit reached: {line.split(' ', 2)[2][:160]}…")

            files = {f"{folder}/late.txt": f"written after start into {folder}\n".encode()
                     for folder in FOLDERS}
            files["top.txt"] = b"written after start into the root\n"
            e2e.write_files(dirs["inbox"], files)
            e2e.wait_until(lambda: len(e2e.list_files(dirs["done"])) >= len(files), 60,
                           f"{len(files)} files done by polling")
            ok, bad = e2e.check_outcomes(dirs, set(files))
            e2e.check(not bad and len(ok) == len(files), f"{len(bad)} failed, {len(ok)} ok")
            e2e.check(len(fake.requests()) == len(files),
                      f"{len(fake.requests())} requests for {len(files)} files")
            e2e.note(f"all {len(files)} files written after start were found by polling, "
                     "each sent once")
            dropd.signal(signal.SIGTERM)
            e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
        finally:
            if dropd is not None:
                dropd.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_watch_limit", main)
