"""Extraction through helper processes, with a stand-in for dropd-extract.

tests/e2e/fake_extract.py speaks dropd-extract's protocol and misbehaves
by file name. Two scenarios, each against dropd-fake-llm:

1. One --once run over a text file, a file whose helper the test kills
   (SIGKILL, by its pid) mid-file, a file that crashes its helper every
   time and a file the helper refuses: the killed file is retried and
   sent (its extracted text in the result), the crashing one fails after
   max_tries with "crashed the extractor 3 times (last: killed by
   SIGSEGV)", the refused one is `skipped`, and the text file never meets
   a helper.
2. Across a restart: a SIGTERM while a file is extracted takes its try
   back; then dropd is SIGKILLed while the file is extracted (its try
   is in the ledger, committed before the helper got the file); the next
   run counts on from there, so the file that crashes the helper fails
   after max_tries - 1 more tries, and the ledger's tries are gone.
"""

import os
import signal
import sqlite3
import tempfile

import dropd_e2e as e2e

STAND_IN = os.path.join(e2e.SOURCE_DIR, "tests", "e2e", "fake_extract.py")


def write_config(root, url, *, max_tries=3):
    os.makedirs(root)
    config = os.path.join(root, "dropd.yaml")
    dirs = e2e.write_config(config, root, url)
    with open(config, "a", encoding="utf-8") as f:
        f.write(f"    extract: {{ max_tries: {max_tries}, timeout: 20s, helpers: 1 }}\n")
    return config, dirs


def env_for(root, **extra):
    env = dict(os.environ)
    env["DROPD_EXTRACT_PROGRAM"] = STAND_IN
    env["FAKE_EXTRACT_LOG"] = os.path.join(root, "extract.log")
    env["FAKE_EXTRACT_MARKS"] = os.path.join(root, "marks")
    os.makedirs(env["FAKE_EXTRACT_MARKS"], exist_ok=True)
    env.update(extra)
    return env


def log_lines(root):
    path = os.path.join(root, "extract.log")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def requests_for(root, name):
    return sum(1 for line in log_lines(root) if line[0] == "req" and line[2] == name)


def wait_pid(marks, name):
    path = os.path.join(marks, name + ".pid")
    e2e.wait_until(lambda: os.path.exists(path), 30, f"{name} in a helper")
    with open(path, encoding="utf-8") as f:
        return int(f.read())


def kill_and_retry(work, fake):
    root = os.path.join(work, "one")
    config, dirs = write_config(root, fake.url)
    doc = b"\0Quarterly figures rose by nine percent"
    files = {"plain.txt": b"just some text\n", "doc-wait.bin": doc,
             "always-crash.bin": b"\0boom", "skipme.bin": b"\0nope"}
    e2e.write_files(dirs["inbox"], files)
    env = env_for(root)
    dropd = e2e.start_dropd(["--once", "--config", config], env=env)
    try:
        pid = wait_pid(env["FAKE_EXTRACT_MARKS"], "doc-wait.bin")
        os.kill(pid, signal.SIGKILL)  # mid-file: the helper is waiting on the test
        rc = dropd.wait(60)
    finally:
        dropd.kill()
    e2e.check(rc == 3, f"--once exits 3 when files failed, got {rc}: {dropd.stderr.text()[-2000:]}")
    ok, bad = e2e.check_outcomes(dirs, files)
    e2e.check(ok == {"plain.txt", "doc-wait.bin"}, f"done: {sorted(ok)}")

    result = e2e.load_json(os.path.join(dirs["outbox"], "doc-wait.bin.json"))
    text = "EXTRACTED: Quarterly figures rose by nine percent"
    e2e.check(result["llm"]["content"] == e2e.fake_content(f"doc-wait.bin\n{text}".encode()),
              f"the extracted text was sent: {result['llm']['content']!r}")
    e2e.check(result["source"]["sha256"] == e2e.sha256(doc) and result["source"]["size"] == len(doc),
              f"source bytes kept: {result['source']}")
    e2e.check(result["source"]["type"] == "application/x-fake", f"{result['source']}")
    e2e.check(result["stats"]["bytes"] == len(text) and result["stats"]["words"] == 7,
              f"stats of the text: {result['stats']}")
    e2e.check(result["extract"] == {"method": "fake", "pages": 1, "chars": len(text),
                                    "truncated": False, "ocr": False}, f"{result['extract']}")
    e2e.note("a helper killed mid-file: the file was retried and its text sent")

    plain = e2e.load_json(os.path.join(dirs["outbox"], "plain.txt.json"))
    e2e.check("extract" not in plain and "type" not in plain["source"], f"text file: {plain}")
    e2e.check(requests_for(root, "plain.txt") == 0, "a text file never goes to a helper")

    crashed = e2e.load_json(os.path.join(dirs["failed"], "always-crash.bin.error.json"))["error"]
    e2e.check(crashed["kind"] == "extract" and crashed["message"] ==
              "crashed the extractor 3 times (last: killed by SIGSEGV)", f"{crashed}")
    e2e.check(requests_for(root, "always-crash.bin") == 3, f"3 tries: {log_lines(root)}")
    skipped = e2e.load_json(os.path.join(dirs["failed"], "skipme.bin.error.json"))["error"]
    e2e.check(skipped["kind"] == "skipped" and "refuses skipme.bin" in skipped["message"],
              f"{skipped}")
    e2e.note("a file that crashes the helper every time failed after max_tries; a refusal is skipped")
    starts = [line for line in log_lines(root) if line[0] != "req"]
    e2e.check(all(line[1:] == ["--memory", "1073741824", "--cpu-seconds", "20"] for line in starts),
              f"limits passed to every helper: {starts}")
    e2e.check(not os.listdir(os.path.join(root, "state")) or tries_rows(root) == [],
              f"no tries left in the ledger: {tries_rows(root)}")


def tries_rows(root):
    db = sqlite3.connect(f"file:{os.path.join(root, 'state', 'ledger.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT rel, tries FROM extract_tries").fetchall()
    finally:
        db.close()


def across_restart(work, fake):
    root = os.path.join(work, "two")
    config, dirs = write_config(root, fake.url)
    files = {"flaky.bin": b"\0never readable"}
    e2e.write_files(dirs["inbox"], files)
    hang = env_for(root, FAKE_EXTRACT_HANG="1")

    # A stop is not the file's fault: the try is taken back, the helper
    # (deaf to its stdin's EOF) killed after the grace, dropd exits 0.
    dropd = e2e.start_dropd(["--config", config], env=hang)
    try:
        helper = wait_pid(hang["FAKE_EXTRACT_MARKS"], "flaky.bin")
        os.remove(os.path.join(hang["FAKE_EXTRACT_MARKS"], "flaky.bin.pid"))
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(30)
    finally:
        dropd.kill()
    e2e.check(rc == 0, f"SIGTERM while extracting: exit {rc} {dropd.stderr.text()[-1500:]}")
    e2e.check(not os.path.exists(f"/proc/{helper}"), f"helper {helper} is gone")
    e2e.check(tries_rows(root) == [("flaky.bin", 0)], f"try taken back: {tries_rows(root)}")
    e2e.check(dropd.stderr.text().count("extract.helper_killed") == 1, "killed after the grace")
    e2e.note("SIGTERM mid-extraction: the helper was killed after the grace, the try taken back")

    dropd = e2e.start_dropd(["--config", config], env=hang)
    helper = None
    try:
        helper = wait_pid(hang["FAKE_EXTRACT_MARKS"], "flaky.bin")
        dropd.popen.send_signal(signal.SIGKILL)  # dropd dies while the file is extracted
    finally:
        if helper is not None:
            # Orphaned by the kill (it holds dropd's stderr): ours to end, first.
            os.kill(helper, signal.SIGKILL)
        dropd.popen.wait(10)
        dropd.kill()
    e2e.check(tries_rows(root) == [("flaky.bin", 1)],
              f"the try was committed before the helper got the file: {tries_rows(root)}")
    e2e.note("dropd SIGKILLed mid-extraction: one try in the ledger")

    res = e2e.run_dropd(["--once", "--config", config], env=env_for(root))
    e2e.check(res.returncode == 3, f"--once: {res.returncode} {res.stderr[-2000:]!r}")
    ok, bad = e2e.check_outcomes(dirs, files)
    error = e2e.load_json(os.path.join(dirs["failed"], "flaky.bin.error.json"))["error"]
    e2e.check(error["kind"] == "extract" and error["message"] ==
              "crashed the extractor 3 times (last: killed by SIGSEGV)", f"{error}")
    e2e.check(requests_for(root, "flaky.bin") == 2 + 2,
              f"1 stopped, 1 before the kill, 2 after: {log_lines(root)}")
    e2e.check(tries_rows(root) == [], f"tries cleared with the error record: {tries_rows(root)}")
    e2e.note("tries kept counting across the restart; the file failed at max_tries")


def missing_program(work, fake):
    root = os.path.join(work, "zero")
    config, dirs = write_config(root, fake.url)
    e2e.write_files(dirs["inbox"], {"a.bin": b"\0x"})
    env = env_for(root, DROPD_EXTRACT_PROGRAM=os.path.join(root, "no-such-dropd-extract"))
    res = e2e.run_dropd(["--once", "--config", config], env=env)
    err = res.stderr.decode("utf-8", "replace")
    e2e.check(res.returncode == 1 and "extract.unavailable pipeline=e2e" in err,
              f"refused without its helper: {res.returncode} {err[-1500:]}")
    e2e.check(os.listdir(dirs["inbox"]) == ["a.bin"], "nothing was processed")
    e2e.note("a pipeline with extract: and no dropd-extract: dropd refuses to start")


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-extract-") as work:
        fake = e2e.Fake(work)
        try:
            missing_program(work, fake)
            kill_and_retry(work, fake)
            across_restart(work, fake)
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("extract_pool", main)
