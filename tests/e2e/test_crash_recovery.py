"""Never lose a file: SIGKILL dropd at random moments, restart, check every outcome.

dropd runs (daemon mode) on a few thousand files against dropd-fake-llm with
latency. Each round waits until k more results exist (k random, seeded; 0 for
some rounds, so the kill can also land during start-up and recovery), then
kills dropd with SIGKILL and starts it again. After the last round a plain
--once run finishes the inbox. Then: every input has exactly one outcome, every
JSON parses and holds the answer for its own file, no temp file is left, and
the fake's request log tells how many files were sent more than once (allowed
only for requests in flight at a kill).
"""

import collections
import os
import random
import signal
import tempfile

import dropd_e2e as e2e

FILES = 2500
KILLS = 24
IN_FLIGHT = 16


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


def kill_rounds(config, dirs, rng):
    """Starts and SIGKILLs dropd KILLS times; returns how many results existed at each kill."""
    seen = []
    for round_no in range(KILLS):
        before = count_results(dirs["outbox"])
        if before >= FILES:
            break
        k = 0 if round_no % 5 == 0 else rng.randint(1, 150)
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
        seen.append(count_results(dirs["outbox"]))
    return seen


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


def main():
    e2e.require_binaries()
    rng = random.Random(20261125)
    with tempfile.TemporaryDirectory(prefix="dropd-crash-") as work:
        fake = e2e.Fake(work, extra=["--latency", "20ms"])
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, max_in_flight=IN_FLIGHT,
                                    retry=("6", "50ms", "500ms"))
            expected = make_inputs(dirs["inbox"], rng)
            seen = kill_rounds(config, dirs, rng)
            e2e.note(f"{len(seen)} SIGKILLs, results at each kill: {seen}")
            e2e.check(len(seen) >= 20, f"only {len(seen)} kills happened before the end")
            final = e2e.run_dropd(["--config", config, "--once"], timeout=120)
            e2e.check(final.returncode == 0,
                      f"final --once exit {final.returncode}: {final.stderr[-2000:]!r}")
            ok, bad = e2e.check_outcomes(dirs, set(expected))
            e2e.check(not bad and len(ok) == FILES, f"{len(bad)} failed, {len(ok)} ok")
            check_results(dirs, expected)
            check_no_temps(work)
            e2e.note(f"all {FILES} files have exactly one outcome; every result parses and "
                     "answers its own file; no temp files")
            # The fake logs the sha256 of the user message it got.
            sent = collections.Counter(r["sha256"] for r in fake.requests() if r.get("status") == 200)
            keys = [e2e.sha256(e2e.user_message(rel, d)) for rel, d in expected.items()]
            twice = sum(1 for key in keys if sent[key] > 1)
            e2e.check(all(sent[key] >= 1 for key in keys), "a file has a result but was never sent")
            # Sent again: requests in flight at a kill, and answers not yet
            # committed (the batch being made durable) at a kill.
            e2e.check(twice <= len(seen) * IN_FLIGHT * 2,
                      f"{twice} files sent more than once: more than the in-flight bound")
            print(f"  files sent more than once (in flight or not yet committed at a kill): "
                  f"{twice} over {len(seen)} kills, {IN_FLIGHT} in flight")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_crash_recovery", main)
