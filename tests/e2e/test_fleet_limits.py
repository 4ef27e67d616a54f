"""Fleet mode's shared endpoint limits (issue 16): RPM split by live instances.

Three dropd instances (ledger.backend: postgres, one database, lease 9s)
work one inbox against dropd-fake-llm --rpm 1800, each configured with
requests_per_minute: 1800, the same as the fake's own limit. Each instance
heartbeats a row in dropd_instances and applies 1800 / 3 = 600 a minute.

Phase 1 (the split): once every instance says endpoint.fleet_share
instances=3, 300 files are dropped in. Checked: every file done once, at
most a handful of 429s, and the combined steady rate of answered requests
within 3% above and 80% below the fake's 30/s; printed.

Phase 2 (the contrast, no fleet): the same three configs with their own
SQLite ledgers and inboxes (so nothing is shared, not even the count), 100
files each: each applies the whole 1800, and only the fake's 429s and
rate-limit headers hold the three back (printed: how many 429s).

Then a clean stop of one fleet instance: the others count 2 again (its row
is removed, not left to expire).
"""

import datetime
import os
import signal
import tempfile
import time

import dropd_e2e as e2e
from pg_cluster import PgCluster

RPM = 1800
INSTANCES = 3
FILES = 300
IN_FLIGHT = 8
# Heartbeats every lease/3; long enough that no stall on a loaded test
# host lets a claim expire (a takeover is test_fleet's part).
LEASE_S = 9


def config_for(work, i, url, fake_url, ledger):
    path = os.path.join(work, f"dropd-{i}.yaml")
    root = os.path.join(work, f"root-{i}") if ledger is None else work
    os.makedirs(root, exist_ok=True)
    # settle: the files are written while the instances run, and a scan of
    # a new folder may find one between its creation and its write; read
    # then, that empty version would get its own result (as a re-save
    # does), beside the full one's.
    dirs = e2e.write_config(path, root, fake_url, max_in_flight=IN_FLIGHT,
                            retry=("20", "100ms", "2s"), settle="300ms")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    old = f"limits: {{ max_in_flight: {IN_FLIGHT} }}"
    e2e.check(old in text, "write_config's limits line changed")
    text = text.replace(old, f"limits: {{ max_in_flight: {IN_FLIGHT}, requests_per_minute: {RPM} }}")
    if ledger is not None:
        state = os.path.join(work, f"state-{i}")
        text = text.replace(f"state_dir: {e2e.yq(dirs['state'])}", f"state_dir: {e2e.yq(state)}")
        text += f"ledger:\n  backend: postgres\n  url: {e2e.yq(url)}\n  lease: {LEASE_S}s\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.makedirs(dirs["inbox"], exist_ok=True)
    return path, dirs


def times_of(entries):
    out = []
    for e in entries:
        t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        out.append(t.replace(tzinfo=datetime.timezone.utc).timestamp())
    return sorted(out)


def steady_rate(entries):
    """Answered requests per second, leaving out the first second's burst."""
    times = times_of([e for e in entries if e["status"] == 200])
    steady = [t for t in times if t >= times[0] + 1.0]
    return (len(steady) - 1) / (steady[-1] - steady[0])


def done_count(outbox):
    return sum(1 for rel in e2e.list_files(outbox) if rel.endswith(".json"))


def start(config):
    proc = e2e.start_dropd(["--config", config])
    try:
        proc.stderr.wait_for(r"daemon\.start mode=daemon", 20)
    except e2e.TestFailure:
        proc.kill()
        raise
    return proc


def stop_all(procs):
    for p in procs:
        p.signal(signal.SIGTERM)
    for i, p in enumerate(procs):
        e2e.check(p.wait(20) == 0, f"instance {i} exit: {p.stderr.text()[-1500:]}")


def fleet_phase(work, pg):
    os.makedirs(work)
    fake = e2e.Fake(work, extra=["--rpm", str(RPM)])
    procs = []
    try:
        url = pg.create_database("dropd_limits")
        configs = [config_for(work, i, url, fake.url, "postgres") for i in range(INSTANCES)]
        dirs = configs[0][1]
        for path, _ in configs:
            procs.append(start(path))
        # The first ones counted fewer; each learns of the others within lease/3.
        for i, p in enumerate(procs):
            p.stderr.wait_for(r"endpoint\.fleet_share endpoint=fake instances=3 rpm=600 ",
                              2 * LEASE_S)
        files = {f"d{i % 5}/f{i:04d}.txt": f"fleet limits {i}\n".encode() for i in range(FILES)}
        began = time.monotonic()
        e2e.write_files(dirs["inbox"], files)
        e2e.wait_until(lambda: done_count(dirs["outbox"]) >= FILES, 40, "every file done")
        took = time.monotonic() - began
        # A batch's results are placed before its sources move (after the
        # ledger's commit): wait for the moves too, as test_fleet does.
        e2e.wait_until(lambda: not e2e.list_files(dirs["inbox"]), 10, "an empty inbox")
        ok, bad = e2e.check_outcomes(dirs, files.keys())
        e2e.check(len(ok) == FILES and not bad, f"{len(ok)} done, {len(bad)} failed")
        log = fake.requests()
        n429 = sum(1 for e in log if e["status"] == 429)
        answered = sum(1 for e in log if e["status"] == 200)
        e2e.check(answered == FILES, f"{answered} answered for {FILES} files (one each)")
        rate = steady_rate(log)
        limit = RPM / 60
        e2e.note(f"fleet of {INSTANCES}, rpm {RPM} each (600 applied each): {FILES} files in "
                 f"{took:.1f} s, combined steady {rate:.2f}/s ({100 * rate / limit:.0f}% of "
                 f"{limit:.0f}/s), {n429} x 429")
        e2e.check(n429 <= 5, f"{n429} requests answered 429, want at most a handful (5)")
        e2e.check(rate <= limit * 1.03, f"combined rate {rate:.2f}/s over the {limit:.0f}/s limit")
        e2e.check(rate >= limit * 0.8, f"combined rate {rate:.2f}/s, under 80% of {limit:.0f}/s")
        rows = pg.psql("dropd_limits", "SELECT count(*) FROM dropd_instances")
        e2e.check(rows == str(INSTANCES), f"{rows} rows in dropd_instances")

        # A clean stop removes the row: the others count 2 at their next heartbeat.
        at = [p.stderr.wait_for(r"fleet\.instances live=3", LEASE_S) for p in procs[1:]]
        procs[0].signal(signal.SIGTERM)
        e2e.check(procs[0].wait(20) == 0, "instance 0's clean stop")
        e2e.check(pg.psql("dropd_limits", "SELECT count(*) FROM dropd_instances") == "2",
                  "instance 0's row removed at its stop")
        for p, start_at in zip(procs[1:], at):
            p.stderr.wait_for(r"endpoint\.fleet_share endpoint=fake instances=2 rpm=900 ",
                              2 * LEASE_S, start=start_at)
        e2e.note("a clean stop removes the instance's row; the others apply 900 each two heartbeats later")
        stop_all(procs[1:])
        e2e.check(pg.psql("dropd_limits", "SELECT count(*) FROM dropd_instances") == "0",
                  "every row removed at the stops")
        return n429, rate
    finally:
        for p in procs:
            p.kill()
        fake.stop()


def alone_phase(work):
    os.makedirs(work)
    fake = e2e.Fake(work, extra=["--rpm", str(RPM)])
    procs = []
    try:
        configs = [config_for(work, i, None, fake.url, None) for i in range(INSTANCES)]
        for path, dirs in configs:
            procs.append(start(path))
        for i, (_, dirs) in enumerate(configs):
            e2e.write_files(dirs["inbox"], {f"a{j:03d}.txt": f"alone {i} {j}\n".encode()
                                            for j in range(FILES // INSTANCES)})
        for _, dirs in configs:
            e2e.wait_until(lambda d=dirs: done_count(d["outbox"]) >= FILES // INSTANCES, 40,
                           "every file done (no fleet)")
        stop_all(procs)
        log = fake.requests()
        return sum(1 for e in log if e["status"] == 429), steady_rate(log)
    finally:
        for p in procs:
            p.kill()
        fake.stop()


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-fleet-limits-") as work, PgCluster() as pg:
        fleet_429, fleet_rate = fleet_phase(os.path.join(work, "fleet"), pg)
        alone_429, alone_rate = alone_phase(os.path.join(work, "alone"))
        e2e.note(f"without the split (3 separate dropd, same config): {alone_429} x 429, "
                 f"steady {alone_rate:.2f}/s; with it: {fleet_429} x 429, {fleet_rate:.2f}/s")
        # Without the split dropd still follows the fake's 429s and rate-limit
        # headers, so the rate holds; the 429s it needed to learn are the cost.
        e2e.check(alone_429 > fleet_429,
                  f"the contrast: {alone_429} x 429 without the split, {fleet_429} with it")


if __name__ == "__main__":
    e2e.run_main("test_fleet_limits", main)
