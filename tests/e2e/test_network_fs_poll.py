"""Folders on a FUSE file system are polled, not trusted to inotify.

bindfs mounts a folder through FUSE (as sshfs or a NAS client would). A file
written to the folder behind the mount, where inotify on the mount sees
nothing (a remote writer), must still be processed and moved out (across
file systems) to the done folder:

- a watched root that is itself the FUSE mount is polled whole
  (`watch.poll ... fs=fuse`);
- a FUSE mount below a local watched root is polled on its own
  (`watch.poll ... mount="share" fs=fuse`) while inotify keeps watching the
  local part, so with rescan_interval at 1 h both kinds of file are
  processed within a few poll intervals (2 s);
- a FUSE mount made below the root after start is polled from the next
  rescan on, and no longer once it is unmounted.

Skipped (exit 0, "SKIP") where bindfs or /dev/fuse is missing.
"""

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import dropd_e2e as e2e

POLL_INTERVAL_S = 2  # Pipeline::kPollInterval


def mount(real, mnt):
    os.makedirs(real, exist_ok=True)
    os.makedirs(mnt, exist_ok=True)
    return subprocess.run(["bindfs", real, mnt]).returncode == 0


def unmount(mnt):
    """Unmounts, retrying while busy: dropd's poll scan holds a directory of
    the mount open for a moment every interval, and an unmount that lands
    then fails with EBUSY (as it would for an operator)."""
    command = ["fusermount", "-u", mnt] if shutil.which("fusermount") else ["umount", mnt]
    deadline = time.monotonic() + 10
    while subprocess.run(command, stderr=subprocess.DEVNULL).returncode != 0:
        if time.monotonic() > deadline:
            raise e2e.TestFailure(f"{mnt} still busy after 10 s: {' '.join(command)}")
        time.sleep(0.05)  # retrying a busy unmount: no event to await


def check_result(dirs, rel, data, real):
    doc = e2e.load_json(os.path.join(dirs["outbox"], rel + ".json"))
    e2e.check(doc["source"]["sha256"] == e2e.sha256(data), f"{rel}: result of another file")
    # A move across file systems copies, renames the copy into place, then
    # unlinks the source: the copy can be seen a moment before the unlink.
    e2e.wait_until(lambda: not os.path.exists(os.path.join(real, os.path.basename(rel))), 10,
                   f"{rel}: source moved out")


def root_on_fuse(work):
    """The watched root is the FUSE mount: polled whole."""
    real = os.path.join(work, "behind")
    mnt = os.path.join(work, "inbox")
    if not mount(real, mnt):
        return False
    fake = e2e.Fake(work)
    dropd = None
    try:
        config = os.path.join(work, "dropd.yaml")
        dirs = e2e.write_config(config, work, fake.url, rescan="0", settle="100ms")
        dropd = e2e.start_dropd(["--config", config])
        i = dropd.stderr.wait_for(r"watch\.poll", 10)
        line = dropd.stderr.lines[i]
        e2e.check("fs=fuse" in line and mnt in line and "mount=" not in line,
                  f"unexpected watch.poll line: {line!r}")
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        data = e2e.english_text(random.Random(3), 40)
        with open(os.path.join(real, "remote.txt"), "wb") as f:  # not through the mount
            f.write(data)
        e2e.wait_until(lambda: os.path.exists(os.path.join(dirs["done"], "remote.txt")), 20,
                       "the file written behind the FUSE mount to be processed")
        check_result(dirs, "remote.txt", data, real)
        dropd.signal(signal.SIGTERM)
        e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
        e2e.note("FUSE root polled (watch.poll fs=fuse); a file written behind the mount "
                 "was processed and moved across file systems")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()
        unmount(mnt)
    return True


def fuse_below_local_root(work):
    """A FUSE mount inside a local watched root: the mount is polled, the rest watched."""
    real = os.path.join(work, "behind")
    inbox = os.path.join(work, "inbox")
    mnt = os.path.join(inbox, "share")
    if not mount(real, mnt):
        return False
    fake = e2e.Fake(work)
    dropd = None
    try:
        config = os.path.join(work, "dropd.yaml")
        # rescan_interval 1 h: a file found in this test was found by
        # polling or inotify, not by a rescan.
        dirs = e2e.write_config(config, work, fake.url, rescan="1h", settle="100ms")
        dropd = e2e.start_dropd(["--config", config])
        i = dropd.stderr.wait_for(r"watch\.poll", 10)
        line = dropd.stderr.lines[i]
        e2e.check('mount="share"' in line and "fs=fuse" in line and inbox in line,
                  f"unexpected watch.poll line: {line!r}")
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        e2e.check(sum("watch.poll" in l for l in dropd.stderr.lines) == 1,
                  "expected one watch.poll line (the mount), not the local root:\n"
                  + dropd.stderr.text())

        rng = random.Random(4)
        remote = e2e.english_text(rng, 40)
        with open(os.path.join(real, "remote.txt"), "wb") as f:  # behind the mount
            f.write(remote)
        local = e2e.english_text(rng, 30)
        with open(os.path.join(inbox, "local.txt"), "wb") as f:  # seen by inotify
            f.write(local)
        # A few poll intervals, far below the 1 h rescan.
        e2e.wait_until(lambda: os.path.exists(os.path.join(dirs["done"], "share", "remote.txt")),
                       4 * POLL_INTERVAL_S + 2,
                       "the file written behind the FUSE mount below the root to be processed")
        e2e.wait_until(lambda: os.path.exists(os.path.join(dirs["done"], "local.txt")),
                       4 * POLL_INTERVAL_S + 2, "the file in the local part to be processed")
        check_result(dirs, "share/remote.txt", remote, real)
        check_result(dirs, "local.txt", local, inbox)
        dropd.signal(signal.SIGTERM)
        e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
        e2e.note("FUSE mount below a local root polled (watch.poll mount=\"share\" fs=fuse); "
                 "a file written behind it and one in the local part were processed "
                 "with rescans 1 h apart")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()
        unmount(mnt)
    return True


def mount_comes_and_goes(work):
    """A FUSE mount that appears below a watched root after start is polled from the next rescan."""
    real = os.path.join(work, "behind")
    inbox = os.path.join(work, "inbox")
    mnt = os.path.join(inbox, "share")
    os.makedirs(mnt)
    fake = e2e.Fake(work)
    dropd = None
    mounted = False
    try:
        config = os.path.join(work, "dropd.yaml")
        dirs = e2e.write_config(config, work, fake.url, rescan="1s", settle="100ms")
        dropd = e2e.start_dropd(["--config", config])
        dropd.stderr.wait_for(r"daemon\.ready", 10)
        mounted = mount(real, mnt)
        if not mounted:
            return False
        i = dropd.stderr.wait_for(r"watch\.poll .*mount=", 10)  # at the next rescan
        e2e.check('mount="share"' in dropd.stderr.lines[i], dropd.stderr.lines[i])
        data = e2e.english_text(random.Random(5), 20)
        with open(os.path.join(real, "late.txt"), "wb") as f:  # behind the mount
            f.write(data)
        e2e.wait_until(lambda: os.path.exists(os.path.join(dirs["done"], "share", "late.txt")),
                       4 * POLL_INTERVAL_S + 2, "the file behind the new mount to be processed")
        check_result(dirs, "share/late.txt", data, real)
        unmount(mnt)
        mounted = False
        dropd.stderr.wait_for(r'watch\.poll_end .*mount="share"', 10, start=i)
        dropd.signal(signal.SIGTERM)
        e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
        e2e.note("a FUSE mount made below the root after start was polled from the next "
                 "rescan on, and no longer once unmounted (watch.poll_end)")
    finally:
        if dropd:
            dropd.kill()
        fake.stop()
        if mounted:
            unmount(mnt)
    return True


def main():
    e2e.require_binaries()
    if shutil.which("bindfs") is None or not os.path.exists("/dev/fuse") or os.geteuid() != 0:
        print("SKIP test_network_fs_poll: needs bindfs, /dev/fuse and root")
        return
    for case in (root_on_fuse, fuse_below_local_root, mount_comes_and_goes):
        with tempfile.TemporaryDirectory(prefix="dropd-fuse-") as work:
            if not case(work):
                print("SKIP test_network_fs_poll: bindfs could not mount here")
                return


if __name__ == "__main__":
    e2e.run_main("test_network_fs_poll", main)
