"""A watched folder on a FUSE file system is polled, not trusted to inotify.

bindfs mounts a folder through FUSE (as sshfs or a NAS client would); dropd
must say it polls that root (`watch.poll`), and a file written to the folder
behind the mount, where inotify on the mount sees nothing (a remote writer),
must still be processed and moved out (across file systems) to the done
folder. Skipped (exit 0, "SKIP") where bindfs or /dev/fuse is missing.
"""

import os
import shutil
import signal
import subprocess
import tempfile

import dropd_e2e as e2e


def main():
    e2e.require_binaries()
    if shutil.which("bindfs") is None or not os.path.exists("/dev/fuse") or os.geteuid() != 0:
        print("SKIP test_network_fs_poll: needs bindfs, /dev/fuse and root")
        return
    with tempfile.TemporaryDirectory(prefix="dropd-fuse-") as work:
        real = os.path.join(work, "behind")
        mnt = os.path.join(work, "inbox")
        os.makedirs(real)
        os.makedirs(mnt)
        if subprocess.run(["bindfs", real, mnt]).returncode != 0:
            print("SKIP test_network_fs_poll: bindfs could not mount here")
            return
        fake = e2e.Fake(work)
        dropd = None
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, rescan="0", settle="100ms")
            dropd = e2e.start_dropd(["--config", config])
            i = dropd.stderr.wait_for(r"watch\.poll", 10)
            line = dropd.stderr.lines[i]
            e2e.check("fs=fuse" in line and mnt in line, f"unexpected watch.poll line: {line!r}")
            dropd.stderr.wait_for(r"daemon\.ready", 10)
            data = e2e.english_text(__import__("random").Random(3), 40)
            with open(os.path.join(real, "remote.txt"), "wb") as f:  # not through the mount
                f.write(data)
            e2e.wait_until(lambda: os.path.exists(os.path.join(dirs["done"], "remote.txt")), 20,
                           "the file written behind the FUSE mount to be processed")
            doc = e2e.load_json(os.path.join(dirs["outbox"], "remote.txt.json"))
            e2e.check(doc["source"]["sha256"] == e2e.sha256(data), "result of another file")
            e2e.check(not os.path.exists(os.path.join(real, "remote.txt")), "source not moved out")
            dropd.signal(signal.SIGTERM)
            e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
            e2e.note("FUSE root polled (watch.poll fs=fuse); a file written behind the mount "
                     "was processed and moved across file systems")
        finally:
            if dropd:
                dropd.kill()
            fake.stop()
            subprocess.run(["umount", mnt])


if __name__ == "__main__":
    e2e.run_main("test_network_fs_poll", main)
