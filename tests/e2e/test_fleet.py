"""Fleet mode (issue 16): three dropd on one inbox, coordinated by PostgreSQL.

Three daemons (each its own state_dir, one shared inbox, outbox and done
folder, one PostgreSQL database, ledger.lease 3s) work 2,000 files against
dropd-fake-llm with a small latency. Mid-run one is SIGKILLed; the files it
held stay claimed in dropd_claims (read right after the kill) until their
leases expire, then the others take them over. Another is stopped with
SIGTERM and started again, and the killed one is started again too.

Checked: every file has exactly one outcome (one result, its source moved
once to done/, nothing left in the inbox); one ledger row per file, each
naming the instance that recorded it; one job.done line per file across
all instances' logs (no result recorded twice); and from the fake's request
log, every request sent twice is of a file the killed instance held at the
kill (printed: how many).
"""

import collections
import os
import re
import signal
import tempfile
import time

import dropd_e2e as e2e
from pg_cluster import PgCluster

FILES = 2000
INSTANCES = 3
IN_FLIGHT = 8  # per instance


def start(config, name):
    proc = e2e.start_dropd(["--config", config])
    try:
        at = proc.stderr.wait_for(r"daemon\.start mode=daemon", 20)
    except e2e.TestFailure:
        proc.kill()
        raise e2e.TestFailure(f"{name} did not start: {proc.stderr.text()[-1500:]}")
    m = re.search(r"instance=(\S+)", proc.stderr.lines[at])
    e2e.check(m is not None, f"{name}: no instance= in {proc.stderr.lines[at]!r}")
    return proc, m.group(1)


def done_count(outbox):
    return sum(1 for rel in e2e.list_files(outbox) if rel.endswith(".json"))


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-fleet-") as work, PgCluster() as pg:
        fake = e2e.Fake(work, extra=["--latency", "20ms"])
        procs = []
        logs = []
        try:
            url = pg.create_database("dropd_fleet")
            configs = []
            for i in range(INSTANCES):
                path = os.path.join(work, f"dropd-{i}.yaml")
                dirs = e2e.write_config(path, work, fake.url, max_in_flight=IN_FLIGHT)
                state = os.path.join(work, f"state-{i}")
                with open(path, encoding="utf-8") as f:
                    text = f.read().replace(f"state_dir: {e2e.yq(dirs['state'])}",
                                            f"state_dir: {e2e.yq(state)}")
                text += f"ledger:\n  backend: postgres\n  url: {e2e.yq(url)}\n  lease: 3s\n"
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                configs.append(path)
            files = {f"d{i % 10}/f{i:04d}.txt": f"file {i} of the fleet\n".encode()
                     for i in range(FILES)}
            e2e.write_files(dirs["inbox"], files)

            began = time.monotonic()
            names = []
            for i in range(INSTANCES):
                proc, name = start(configs[i], f"instance {i}")
                procs.append(proc)
                names.append(name)
            e2e.check(len(set(names)) == INSTANCES, f"instance names not distinct: {names}")

            # The kill: once a fifth of the files are done, instance 0 goes.
            e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES // 5, 40, "a fifth done")
            procs[0].popen.send_signal(signal.SIGKILL)
            procs[0].wait(10)
            held = pg.psql("dropd_fleet", "SELECT convert_from(rel, 'UTF8') FROM dropd_claims "
                           f"WHERE holder = '{names[0]}'")
            held_at_kill = set(held.split("\n")) if held else set()
            e2e.note(f"instance 0 SIGKILLed with {len(held_at_kill)} files claimed, "
                     f"{done_count(dirs['outbox'])} done")
            logs.append(procs[0].stderr.text())

            # A clean restart of instance 1: what it holds finishes first.
            procs[1].signal(signal.SIGTERM)
            e2e.check(procs[1].wait(20) == 0, "instance 1's clean stop")
            logs.append(procs[1].stderr.text())
            procs[1], _ = start(configs[1], "instance 1 again")
            procs[0], _ = start(configs[0], "instance 0 again")

            try:
                e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES, 45, "every file done")
            except e2e.TestFailure:
                outbox = e2e.list_files(dirs["outbox"])
                missing = [r for r in files if r + ".json" not in outbox]
                text = "\n".join(logs + [p.stderr.text() for p in procs])
                for r in missing[:5]:
                    e2e.note(f"no result for {r}:\n" + "\n".join(
                        line for line in text.splitlines() if f'"{r}"' in line))
                raise
            e2e.wait_until(lambda: not e2e.list_files(dirs["inbox"]), 15, "an empty inbox")
            took = time.monotonic() - began
            for p in procs:
                p.signal(signal.SIGTERM)
            for i, p in enumerate(procs):
                e2e.check(p.wait(20) == 0, f"instance {i} exit")
                logs.append(p.stderr.text())

            ok, bad = e2e.check_outcomes(dirs, files.keys())
            e2e.check(len(ok) == FILES and not bad, f"{len(ok)} done, {len(bad)} failed")
            e2e.note(f"{FILES} files, one outcome each, in {took:.1f} s")

            rows = pg.psql("dropd_fleet", "SELECT count(*), count(DISTINCT rel), "
                           "count(*) FILTER (WHERE holder = '') FROM dropd_jobs")
            e2e.check(rows == f"{FILES}|{FILES}|0", f"dropd_jobs count|distinct|no holder: {rows}")
            claims = pg.psql("dropd_fleet", "SELECT count(*) FROM dropd_claims "
                             f"WHERE holder <> '{names[0]}'")
            e2e.check(claims == "0", f"{claims} claims of live instances left behind")
            joined = "\n".join(logs)
            # (The killed instance may have lost its last lines: <= per file.)
            done_lines = collections.Counter(re.findall(r'job\.done pipeline=\S+ file="([^"]+)"',
                                                        joined))
            twice = sorted(rel for rel, n in done_lines.items() if n > 1)
            e2e.check(not twice, f"job.done twice for {twice[:10]}")
            e2e.check(len(done_lines) >= FILES - len(held_at_kill) - 50,
                      f"only {len(done_lines)} job.done lines")
            e2e.check("ledger.no_claims" not in joined, "the old warning is gone")
            e2e.note(f"one row per file naming its instance, no job.done twice "
                     f"({len(done_lines)} lines)")

            by_body = collections.defaultdict(list)
            for r in fake.requests():
                by_body[r["sha256"]].append(r["first_words"].split()[0])
            repeated = {rels[0] for rels in by_body.values() if len(rels) > 1}
            e2e.check(len(by_body) == FILES, f"{len(by_body)} distinct requests for {FILES}")
            stray = sorted(repeated - held_at_kill)
            e2e.check(not stray, f"repeated but not held by the killed instance: {stray[:10]}")
            e2e.note(f"{len(repeated)} requests repeated, all of files the killed instance held "
                     f"at the kill ({len(held_at_kill)})")
        finally:
            for p in procs:
                p.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_fleet", main)
