"""Fleet mode: a stopped instance gives its claims back (issue 16).

Two dropd instances (ledger.backend: postgres, lease 60s) work one inbox of
400 files against dropd-fake-llm at 100 ms. Mid-run instance A is stopped
with SIGTERM: its requests in flight finish, and the files it had claimed
but not finished (waiting to be sent, read ahead) are released at the end
of its drain (claims.given_back released=N, N > 0), with its row in
dropd_instances. Instance B then takes them at once: every file is done
well before A's leases would have run out (60 s), each sent once.
"""

import collections
import os
import re
import signal
import tempfile
import time

import dropd_e2e as e2e
from pg_cluster import PgCluster

FILES = 400
LEASE_S = 60


def done_count(outbox):
    return sum(1 for rel in e2e.list_files(outbox) if rel.endswith(".json"))


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-handover-") as work, PgCluster() as pg:
        fake = e2e.Fake(work, extra=["--latency", "100ms"])
        procs = []
        try:
            url = pg.create_database("dropd_handover")
            configs = []
            for i in range(2):
                path = os.path.join(work, f"dropd-{i}.yaml")
                dirs = e2e.write_config(path, work, fake.url, max_in_flight=8)
                with open(path, encoding="utf-8") as f:
                    text = f.read().replace(f"state_dir: {e2e.yq(dirs['state'])}",
                                            f"state_dir: {e2e.yq(os.path.join(work, f'state-{i}'))}")
                text += f"ledger:\n  backend: postgres\n  url: {e2e.yq(url)}\n  lease: {LEASE_S}s\n"
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                configs.append(path)
            files = {f"d{i % 4}/f{i:04d}.txt": f"handover {i}\n".encode() for i in range(FILES)}
            e2e.write_files(dirs["inbox"], files)
            for path in configs:
                procs.append(e2e.start_dropd(["--config", path]))
            a, b = procs
            e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES // 4, 30, "a quarter done")
            a_name = re.search(r"instance=(\S+)",
                               a.stderr.lines[a.stderr.wait_for(r"daemon\.start ", 5)]).group(1)
            held = int(pg.psql("dropd_handover", "SELECT count(*) FROM dropd_claims "
                               f"WHERE holder = '{a_name}'"))
            stopped_at = time.monotonic()
            a.signal(signal.SIGTERM)
            e2e.check(a.wait(20) == 0, f"A's clean stop: {a.stderr.text()[-1500:]}")
            a_log = a.stderr.text()
            m = re.search(r"claims\.given_back released=(\d+)", a_log)
            e2e.check(m is not None, f"no claims.given_back in A's log: {a_log[-1500:]}")
            at_start = sum(int(n) for n in re.findall(r"claims\.released count=(\d+)", a_log))
            released = at_start + int(m.group(1))
            e2e.check(released > 0, "A released nothing: the test proves nothing")
            left = pg.psql("dropd_handover", "SELECT count(*) FROM dropd_claims "
                           f"WHERE holder = '{a_name}'")
            e2e.check(left == "0", f"{left} claims of A left after its stop")
            e2e.check(pg.psql("dropd_handover", "SELECT count(*) FROM dropd_instances WHERE "
                              f"holder = '{a_name}'") == "0", "A's row in dropd_instances")

            e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES, LEASE_S / 2,
                           "every file done by B, well before A's leases ran out")
            took = time.monotonic() - stopped_at
            e2e.wait_until(lambda: not e2e.list_files(dirs["inbox"]), 10, "an empty inbox")
            b.signal(signal.SIGTERM)
            e2e.check(b.wait(20) == 0, "B's clean stop")
            ok, bad = e2e.check_outcomes(dirs, files.keys())
            e2e.check(len(ok) == FILES and not bad, f"{len(ok)} done, {len(bad)} failed")
            sent = collections.Counter(r["sha256"] for r in fake.requests())
            twice = sum(1 for n in sent.values() if n > 1)
            e2e.check(len(sent) == FILES and twice == 0,
                      f"{len(sent)} distinct requests, {twice} sent twice")
            e2e.note(f"A stopped holding {held} claims, released {at_start} at the start of its "
                     f"drain and {released - at_start} at its end; B finished everything {took:.1f} s after the stop (lease "
                     f"{LEASE_S} s), each file sent once")
        finally:
            for p in procs:
                p.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_fleet_handover", main)
