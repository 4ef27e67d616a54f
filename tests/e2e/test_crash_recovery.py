"""Never lose a file: SIGKILL dropd at random moments, restart, check every outcome.

dropd runs (daemon mode) on a few thousand files against dropd-fake-llm with
latency. Each round waits until k more results exist (k random, seeded; 0 for
some rounds, so the kill can also land during start-up and recovery), then
kills dropd with SIGKILL and starts it again. After the last round a plain
--once run finishes the inbox. Then: every input has exactly one outcome, every
JSON parses and holds the answer for its own file, no temp file is left.

Files sent more than once are allowed only for work cut off at a kill (in
flight, or answered but not yet committed). Each run talks to its own fake
(same port, its own request log) and the ledger is read after each kill, so
the test checks that exactly: no file is sent twice within one run, and no
file is sent again after a kill at which its ledger row was committed.
"""

import collections
import os
import random
import signal
import sqlite3
import tempfile

import dropd_e2e as e2e

FILES = 2500
KILLS = 24
IN_FLIGHT = 16
LATENCY = ["--latency", "20ms"]


def make_inputs(inbox, rng):
    expected = {}
    for i in range(FILES):
        rel = f"d{i % 7}/f{i:05d}.txt"
        expected[rel] = e2e.english_text(rng, rng.randint(5, 300))
    e2e.write_files(inbox, expected)
    return expected


def count_results(outbox):
    n = 0
    for _, _, names in os.walk(outbox):
        n += sum(1 for name in names if name.endswith(".json"))
    return n


def committed_rels(state_dir):
    """The rels with a ledger row, read while no dropd runs."""
    path = os.path.join(state_dir, "ledger.db")
    if not os.path.exists(path):
        return set()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {rel for (rel,) in db.execute("SELECT rel FROM jobs")}
    finally:
        db.close()


class Runs:
    """One fake per dropd run, all on one port: each run's requests in a log of its own."""

    def __init__(self, work):
        self.work = work
        self.port = 0
        self.fake = None
        self.sent = []  # per run: Counter of the user-message sha256s answered with 200

    def start_fake(self):
        self.fake = e2e.Fake(self.work, port=self.port, extra=LATENCY)
        self.port = self.fake.port
        return self.fake.url

    def end_run(self):
        # Answers the fake still owed the killed dropd may or may not be
        # logged; either way they belong to this run.
        self.fake.stop()
        self.sent.append(collections.Counter(
            r["sha256"] for r in self.fake.requests() if r.get("status") == 200))
        self.fake = None


def kill_rounds(config, dirs, rng, runs):
    """Starts and SIGKILLs dropd KILLS times. Returns how many results existed at each
    kill and the ledger's rels after each kill."""
    seen, committed = [], []
    for round_no in range(KILLS):
        before = count_results(dirs["outbox"])
        if before >= FILES:
            break
        k = 0 if round_no % 5 == 0 else rng.randint(1, 150)
        if runs.fake is None:
            runs.start_fake()
        proc = e2e.start_dropd(["--config", config])
        try:
            if k == 0:
                proc.stderr.wait_for(r"daemon\.start", 10)
            else:
                e2e.wait_until(lambda: count_results(dirs["outbox"]) >= min(FILES, before + k),
                               60, f"{k} more results (round {round_no})", interval=0.005)
            proc.signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            proc.kill()
        runs.end_run()
        seen.append(count_results(dirs["outbox"]))
        committed.append(committed_rels(dirs["state"]))
    return seen, committed


def check_no_temps(root):
    leftovers = [os.path.join(d, n) for d, _, names in os.walk(root) for n in names
                 if n.endswith(".dropd-tmp")]
    e2e.check(not leftovers, f"temp files left behind: {leftovers[:5]!r}")


def check_results(dirs, expected):
    for rel, data in expected.items():
        doc = e2e.load_json(os.path.join(dirs["outbox"], rel + ".json"))  # raises if torn
        e2e.check(doc["source"]["sha256"] == e2e.sha256(data), f"{rel}: result of another file")
        want = e2e.fake_content(e2e.user_message(rel, data))
        e2e.check(doc["llm"]["content"] == want, f"{rel}: content {doc['llm']['content']!r}")


def check_sends(expected, runs, committed):
    """Returns how many files were sent more than once, after checking each was
    cut off at a kill: sent once per run at most, never after its row was committed."""
    rel_of = {e2e.sha256(e2e.user_message(rel, d)): rel for rel, d in expected.items()}
    total = collections.Counter()
    for run_no, sent in enumerate(runs.sent):
        twice = [rel_of.get(key, key) for key, n in sent.items() if n > 1]
        e2e.check(not twice, f"run {run_no} sent {len(twice)} files twice, e.g. {twice[:3]!r}")
        if run_no > 0:
            again = sorted(rel_of[key] for key in sent if key in rel_of
                           and rel_of[key] in committed[run_no - 1])
            e2e.check(not again, f"run {run_no} sent {len(again)} files whose ledger row was "
                      f"committed at the kill before it, e.g. {again[:3]!r}")
        total.update(sent)
    e2e.check(all(total[key] >= 1 for key in rel_of), "a file has a result but was never sent")
    return sum(1 for key in rel_of if total[key] > 1)


def main():
    e2e.require_binaries()
    rng = random.Random(20261125)
    with tempfile.TemporaryDirectory(prefix="dropd-crash-") as work:
        runs = Runs(work)
        try:
            url = runs.start_fake()
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, url, max_in_flight=IN_FLIGHT,
                                    retry=("6", "50ms", "500ms"))
            expected = make_inputs(dirs["inbox"], rng)
            seen, committed = kill_rounds(config, dirs, rng, runs)
            e2e.note(f"{len(seen)} SIGKILLs, results at each kill: {seen}")
            e2e.check(len(seen) >= 20, f"only {len(seen)} kills happened before the end")
            runs.start_fake()
            final = e2e.run_dropd(["--config", config, "--once"], timeout=120)
            runs.end_run()
            e2e.check(final.returncode == 0,
                      f"final --once exit {final.returncode}: {final.stderr[-2000:]!r}")
            ok, bad = e2e.check_outcomes(dirs, set(expected))
            e2e.check(not bad and len(ok) == FILES, f"{len(bad)} failed, {len(ok)} ok")
            check_results(dirs, expected)
            check_no_temps(work)
            e2e.note(f"all {FILES} files have exactly one outcome; every result parses and "
                     "answers its own file; no temp files")
            twice = check_sends(expected, runs, committed)
            e2e.note("no file was sent twice in one run, or again after its ledger row was "
                     "committed")
            print(f"  files sent more than once (in flight or not yet committed at a kill): "
                  f"{twice} over {len(seen)} kills, {IN_FLIGHT} in flight")
        finally:
            if runs.fake is not None:
                runs.fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_crash_recovery", main)
