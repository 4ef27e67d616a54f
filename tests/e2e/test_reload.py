"""SIGHUP reloads the config; nothing is lost or sent twice across a reload.

dropd runs in daemon mode with a systemd notification socket and a fake
that answers after 200 ms, 4 requests at a time.

1. An invalid config file (an unknown key): SIGHUP logs daemon.reload_failed
   naming the file, line and key; the running config stays and still works.
2. A valid one that adds a second pipeline: SIGHUP while files are in
   flight. systemd hears RELOADING=1 with MONOTONIC_USEC, then READY=1;
   the log says daemon.reloading, then daemon.reloaded. Every file dropped
   before and after has exactly one outcome, each is sent exactly once, and
   the new pipeline processes its own folder.
3. SIGTERM: STOPPING=1, exit 0.
"""

import collections
import os
import signal
import tempfile

import dropd_e2e as e2e

BURST = 24


def second_pipeline(work, url):
    """The pipeline block of a config for `extra`, with folders under work/extra."""
    scratch = os.path.join(work, "scratch.yaml")
    dirs = e2e.write_config(scratch, os.path.join(work, "extra"), url)
    text = open(scratch).read()
    block = text[text.index("  - name: e2e"):].replace("name: e2e", "name: extra")
    return block, dirs


def sent_per_file(fake):
    return collections.Counter(r["first_words"] for r in fake.requests() if r.get("status") == 200)


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-reload-") as work:
        fake = e2e.Fake(work, extra=["--latency", "200ms"])
        notify = e2e.NotifySocket(work)
        dropd = None
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, max_in_flight=4, rescan="0")
            os.makedirs(dirs["inbox"])
            first = open(config).read()
            dropd = e2e.Proc([e2e.DROPD_BIN, "--config", config], env=notify.env())
            notify.wait_for(r"^READY=1", 10)
            e2e.write_files(dirs["inbox"], {"before.txt": b"before the reloads\n"})
            dropd.stderr.wait_for(r'job\.done .*file="before\.txt"', 20)

            with open(config, "w") as f:
                f.write(first + "    no_such_key: 1\n")
            dropd.signal(signal.SIGHUP)
            line = dropd.stderr.lines[dropd.stderr.wait_for(r"daemon\.reload_failed", 10)]
            e2e.check(config in line and "no_such_key" in line, f"unclear error: {line!r}")
            e2e.write_files(dirs["inbox"], {"still.txt": b"the old config still runs\n"})
            dropd.stderr.wait_for(r'job\.done .*file="still\.txt"', 20)
            e2e.note(f"invalid config: {line.split('error=', 1)[1][:120]}…; the old one runs on")

            block, extra = second_pipeline(work, fake.url)
            with open(config, "w") as f:
                f.write(first + block)
            burst = {f"burst{i:02d}.txt": f"burst file {i}\n".encode() for i in range(BURST)}
            e2e.write_files(dirs["inbox"], burst)
            dropd.stderr.wait_for(r"job\.done", 20, start=len(dropd.stderr.lines))
            ready_before = len(notify.lines)
            dropd.signal(signal.SIGHUP)
            reloading = dropd.stderr.wait_for(r"daemon\.reloading in_flight=[1-9]", 10)
            at = notify.wait_for(r"^RELOADING=1\nMONOTONIC_USEC=\d+$", 10, start=ready_before)
            dropd.stderr.wait_for(r"daemon\.reloaded pipelines=2", 40, start=reloading)
            notify.wait_for(r"^READY=1", 20, start=at)
            e2e.note(f"reload with requests in flight: {dropd.stderr.lines[reloading].split(' ', 2)[2]}"
                     "; RELOADING=1 with MONOTONIC_USEC, then READY=1")

            e2e.write_files(extra["inbox"], {"new.txt": b"for the new pipeline\n"})
            e2e.write_files(dirs["inbox"], {"after.txt": b"after the reload\n"})
            want = set(burst) | {"before.txt", "still.txt", "after.txt"}
            e2e.wait_until(lambda: len(e2e.list_files(dirs["done"])) >= len(want)
                           and e2e.list_files(extra["done"]) == {"new.txt"}, 60,
                           "every file done after the reload")
            ok, bad = e2e.check_outcomes(dirs, want)
            e2e.check(len(ok) == len(want) and not bad, f"{len(ok)} ok, {len(bad)} failed")
            e2e.check(e2e.list_files(extra["outbox"]) == {"new.txt.json"}, "extra's result")
            sent = sent_per_file(fake)
            twice = [words for words, n in sent.items() if n > 1]
            e2e.check(not twice, f"sent more than once across the reload: {twice}")
            e2e.check(sum(sent.values()) == len(want) + 1,
                      f"{sum(sent.values())} requests for {len(want) + 1} files")
            e2e.note(f"{len(want) + 1} files, each with one outcome and sent once; the new "
                     "pipeline processed its folder")

            dropd.signal(signal.SIGTERM)
            e2e.check(dropd.wait(30) == 0, "dropd did not exit 0 on SIGTERM")
            notify.wait_for(r"^STOPPING=1", 5)
            e2e.note("SIGTERM: STOPPING=1, exit 0")
        finally:
            if dropd is not None:
                dropd.kill()
            notify.close()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_reload", main)
