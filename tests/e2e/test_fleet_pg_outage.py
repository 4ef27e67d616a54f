"""Fleet mode: PostgreSQL stopped for 20 s under two running instances (issue 16).

Two dropd instances (ledger.backend: postgres, the default 30 s lease, a
status server each) work one inbox of 1,500 files against dropd-fake-llm
at 100 ms (about 10 s of work). Once a fifth is done the server is stopped
for 20 s, then started again. While it is down each instance says
ledger.postgres_down and its /readyz answers 503 naming the ledger.
Checked at the end: no file failed, every file has one result, one ledger
row and one job.done line, each request was sent once (the fake's request
log), no claim was lost; /readyz is 200 again, and /status and /metrics
(promtool) show the instance's name and the two live instances. The lease
outlasts the outage, so no claim expires meanwhile.
"""

import collections
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import dropd_e2e as e2e
from pg_cluster import PgCluster

FILES = 1500
INSTANCES = 2
OUTAGE_S = 20


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def done_count(outbox):
    return sum(1 for rel in e2e.list_files(outbox) if rel.endswith(".json"))


def start(config):
    proc = e2e.start_dropd(["--config", config])
    line = proc.stderr.lines[proc.stderr.wait_for(r"status\.listening address=", 20)]
    port = int(re.search(r"address=127\.0\.0\.1:(\d+)", line).group(1))
    return proc, port


def check_fleet_view(port):
    # Counted at a heartbeat (every lease/3, 10 s), so it may take that long.
    st = e2e.wait_until(
        lambda: (lambda s: s if s.get("fleet", {}).get("live_instances") == INSTANCES else None)(
            json.loads(get(port, "/status")[1])), 15, f"/status: {INSTANCES} live instances")
    code, text = get(port, "/metrics")
    promtool = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    e2e.check(code == 200 and promtool.returncode == 0, f"promtool: {promtool.stdout.decode()}")
    name = st["instance"]["name"]
    e2e.check(f'dropd_instance_info{{holder="{name}"}} 1' in text, "dropd_instance_info")
    e2e.check(f"dropd_fleet_instances {INSTANCES}" in text, "dropd_fleet_instances")


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-fleet-outage-") as work, PgCluster() as pg:
        fake = e2e.Fake(work, extra=["--latency", "100ms"])
        procs = []
        try:
            url = pg.create_database("dropd_outage")
            configs = []
            for i in range(INSTANCES):
                path = os.path.join(work, f"dropd-{i}.yaml")
                dirs = e2e.write_config(path, work, fake.url, max_in_flight=8)
                with open(path, encoding="utf-8") as f:
                    text = f.read().replace(f"state_dir: {e2e.yq(dirs['state'])}",
                                            f"state_dir: {e2e.yq(os.path.join(work, f'state-{i}'))}")
                text += (f"ledger:\n  backend: postgres\n  url: {e2e.yq(url)}\n"
                         "status:\n  listen: \"127.0.0.1:0\"\n")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                configs.append(path)
            files = {f"d{i % 6}/f{i:04d}.txt": f"outage {i}\n".encode() for i in range(FILES)}
            e2e.write_files(dirs["inbox"], files)
            ports = []
            for path in configs:
                proc, port = start(path)
                procs.append(proc)
                ports.append(port)
            e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES // 5, 30, "a fifth done")

            pg.stop()
            stopped = time.monotonic()
            at_stop = done_count(dirs["outbox"])
            for p in procs:
                p.stderr.wait_for(r"ledger\.postgres_down", 10)

            def unready(port):
                code, body = get(port, "/readyz")
                return (code, json.loads(body)) if code == 503 else None
            for port in ports:
                code, body = e2e.wait_until(lambda p=port: unready(p), 10, "/readyz 503")
                e2e.check(body["reason"].startswith("ledger unreachable: ")
                          and f"postgres://dropd@127.0.0.1:{pg.port}/dropd_outage" in body["reason"],
                          f"/readyz while the ledger is down: {body}")
            e2e.note(f"server stopped at {at_stop} done; /readyz: {body['reason']!r}")
            # The outage itself: the time the server stays away, not a wait for an event.
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
            during = done_count(dirs["outbox"])
            pg.start()
            back = time.monotonic()
            for p in procs:
                p.stderr.wait_for(r"ledger\.postgres_up", 20)
            e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES, 40, "every file done")
            resumed = time.monotonic() - back
            e2e.wait_until(lambda: not e2e.list_files(dirs["inbox"]), 10, "an empty inbox")
            for port in ports:
                e2e.wait_until(lambda p=port: get(p, "/readyz")[0] == 200, 10, "/readyz 200")
                check_fleet_view(port)
            for p in procs:
                p.signal(signal.SIGTERM)
            logs = []
            for i, p in enumerate(procs):
                e2e.check(p.wait(20) == 0, f"instance {i} exit")
                logs.append(p.stderr.text())

            ok, bad = e2e.check_outcomes(dirs, files.keys())
            e2e.check(len(ok) == FILES and not bad, f"{len(ok)} done, {len(bad)} failed")
            rows = pg.psql("dropd_outage", "SELECT count(*), count(DISTINCT rel) FROM dropd_jobs")
            e2e.check(rows == f"{FILES}|{FILES}", f"dropd_jobs count|distinct: {rows}")
            joined = "\n".join(logs)
            done_lines = collections.Counter(
                re.findall(r'job\.done pipeline=\S+ file="([^"]+)"', joined))
            twice = [rel for rel, n in done_lines.items() if n > 1]
            e2e.check(not twice and len(done_lines) == FILES,
                      f"{len(done_lines)} job.done lines, twice for {twice[:5]}")
            e2e.check("job.claim_lost" not in joined, "a claim was lost over the outage")
            sent = collections.Counter(r["sha256"] for r in fake.requests())
            repeated = sum(1 for n in sent.values() if n > 1)
            e2e.check(len(sent) == FILES and repeated == 0,
                      f"{len(sent)} distinct requests for {FILES}, {repeated} sent twice")
            e2e.check(at_stop < FILES // 2, f"{at_stop} of {FILES} done before the stop")
            e2e.note(f"{OUTAGE_S} s without the server ({during - at_stop} records placed "
                     f"meanwhile): every file done once, none failed, no request repeated; the "
                     f"rest took {resumed:.1f} s after the server came back")
        finally:
            for p in procs:
                p.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_fleet_pg_outage", main)
