#!/usr/bin/python3
"""dropd --once over a generated tree of 1,000+ files plus every bad input of issue 4.

Checks: exit code and summary; exactly one outcome per input; excluded files
left alone; every result's stats (Python and `wc`), source and LLM content
(the fake's derivation of the exact user message, so the right file was
sent); one request per sent file in the fake's log with the right sha256;
error records with kind `skipped` for too large, binary, symlink and fifo.
A second run over the same tree with `binary: send` sends the binary files.
"""

import os
import random
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

TREE_FILES = 1000
MAX_FILE_SIZE = 64 * 1024


def build_tree(root, inbox, seed=4):
    """Writes the corpus and the bad inputs. Returns (contents, special) where
    contents maps rel -> bytes for regular files, and special maps rel -> the
    expected error kind for inputs that must fail, plus the excluded rels."""
    rng = random.Random(seed)
    contents = {}
    for i in range(TREE_FILES):
        depth = i % 3
        parts = [f"d{i % 7}"] + ([f"sub{i % 5}"] if depth >= 1 else []) + \
                ([f"deep{i % 2}"] if depth == 2 else [])
        rel = os.path.join(*parts, f"doc{i:04}.txt")
        contents[rel] = english_text(rng, rng.randint(5, 400))
    bad = {
        "bad/empty.txt": b"",
        "bad/invalid-middle.txt": b"valid start words here " + b"\xff\xfe" + b" and valid end\n",
        "bad/invalid-end.txt": "ends with a cut character 日".encode() + "本".encode()[:2],
        "bad/name with spaces.txt": b"spaces in the name\n",
        "bad/new\nline.txt": b"a newline in the name\n",
        "bad/double\"quote.txt": b"a double quote in the name\n",
        "bad/single'quote.txt": b"a single quote in the name\n",
        "bad/café é.txt": "accented name café\n".encode(),
        "bad/日本/日本語.txt": "日本語 のファイル with ascii words\n".encode(),
        "bad/crlf.txt": b"windows\r\nline\r\nendings\r\n",
    }
    contents.update(bad)
    special = {
        "bad/binary-nul.bin": "skipped",
        "bad/mostly-invalid.bin": "skipped",
        "bad/too-large.txt": "skipped",
        "bad/link-to-secret": "skipped",
        "bad/a-fifo": "skipped",
    }
    binaries = {
        "bad/binary-nul.bin": b"looks like text\x00but has a NUL byte\n" * 4,
        "bad/mostly-invalid.bin": bytes(rng.randrange(0x80, 0xC0) for _ in range(3000)),
    }
    too_large = {"bad/too-large.txt": english_text(rng, 30000)[:100 * 1024]}
    check(len(too_large["bad/too-large.txt"]) == 100 * 1024, "generator: 100 KiB file")
    excluded = {".hidden/secret.txt": b"never to be sent HIDDENDOTFOLDER\n",
                "sub/.dotfile": b"never to be sent DOTFILE\n",
                "sub/partial.tmp": b"never to be sent TMPFILE\n"}
    write_files(inbox, {**contents, **binaries, **too_large, **excluded})
    secret = os.path.join(root, "outside-secret.txt")
    with open(secret, "wb") as f:
        f.write(b"SYMLINK TARGET OUTSIDE THE INBOX must never be sent\n")
    os.symlink(secret, os.path.join(inbox, "bad/link-to-secret"))
    os.mkfifo(os.path.join(inbox, "bad/a-fifo"))
    regular = dict(contents)
    regular.update(binaries)
    regular.update(too_large)
    return regular, binaries, special, excluded


def parse_summary(stdout):
    text = stdout.decode("utf-8", "replace")
    m1 = re.search(r"^dropd --once: (\d+) files in [0-9.]+ s \([0-9.]+ files/s\), (\d+) bytes read$",
                   text, re.M)
    m2 = re.search(r"^  done (\d+), failed (\d+)(?: \((.*)\))?$", text, re.M)
    check(m1 is not None and m2 is not None, f"summary lines not found in stdout:\n{text}")
    kinds = {}
    if m2.group(3):
        for part in m2.group(3).split(", "):
            kind, n = part.rsplit(" ", 1)
            kinds[kind] = int(n)
    return {"files": int(m1.group(1)), "bytes": int(m1.group(2)), "done": int(m2.group(1)),
            "failed": int(m2.group(2)), "kinds": kinds}


def wc_check(path, data):
    """`wc -c`, `wc -l` and (valid UTF-8 only) `LC_ALL=C.UTF-8 wc -m` of one file."""
    env = dict(os.environ, LC_ALL="C.UTF-8")
    with open(path, "rb") as f:
        out = subprocess.run(["wc", "-l", "-m", "-c"], stdin=f, stdout=subprocess.PIPE,
                             env=env, check=True).stdout.split()
    return {"lines": int(out[0]), "chars": int(out[1]), "bytes": int(out[2])}


def run_tree(tmp, binary_policy):
    root = os.path.join(tmp, f"run-{binary_policy}")
    os.makedirs(root)
    fake = Fake(root)
    try:
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, fake.url, settle="0ms", max_in_flight=16,
                            max_file_size="64KiB", binary=binary_policy)
        os.makedirs(dirs["inbox"])
        regular, binaries, special, excluded = build_tree(root, dirs["inbox"])
        if binary_policy == "send":
            for rel in binaries:
                special.pop(rel)
        inputs = set(regular) | set(special)
        res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=120)
        stderr = res.stderr.decode("utf-8", "replace")
        check(res.returncode == 3, f"[{binary_policy}] exit code {res.returncode}, want 3 "
                                   f"(some failed); stderr tail:\n{stderr[-3000:]}")
        summary = parse_summary(res.stdout)
        want_failed = len(special)
        check(summary["files"] == len(inputs) and summary["done"] == len(inputs) - want_failed
              and summary["failed"] == want_failed and summary["kinds"] == {"skipped": want_failed},
              f"[{binary_policy}] summary {summary}, want files={len(inputs)} "
              f"failed={want_failed} (skipped {want_failed})")
        read_bytes = sum(len(d) for d in regular.values() if len(d) <= MAX_FILE_SIZE)
        check(summary["bytes"] == read_bytes,
              f"[{binary_policy}] summary says {summary['bytes']} bytes read, want {read_bytes}")
        note(f"[{binary_policy}] exit 3, summary {summary['files']} files, "
             f"done {summary['done']}, failed {summary['failed']} (skipped), {read_bytes} bytes read")

        ok, bad = check_outcomes(dirs, inputs, excluded=set(excluded))
        check(bad == set(special), f"[{binary_policy}] failed set {sorted(bad)}, want {sorted(special)}")
        note(f"[{binary_policy}] {len(inputs)} inputs: exactly one outcome each "
             f"({len(ok)} results, {len(bad)} error records); {len(excluded)} excluded files untouched")

        # Results: source, stats (Python), content (the fake's derivation).
        expected_requests = []
        for rel in sorted(ok):
            data = regular[rel]
            doc = load_json(os.path.join(dirs["outbox"], rel + ".json"))
            want = stats_of(data)
            got = {k: doc["stats"][k] for k in want}
            check(got == want, f"stats of {rel!r}: got {got}, want {want}")
            check(isinstance(doc["stats"].get("estimated_tokens"), int),
                  f"{rel!r}: estimated_tokens missing")
            src = doc["source"]
            check(src["path"] == rel and src["size"] == len(data) and src["sha256"] == sha256(data),
                  f"source of {rel!r}: {src}")
            with open(os.path.join(dirs["done"], rel), "rb") as f:
                check(f.read() == data, f"moved source of {rel!r} differs from the input")
            user = user_message(rel, data)
            want_content = fake_content(user)
            check(doc["llm"]["content"] == want_content,
                  f"llm.content of {rel!r}: {doc['llm']['content']!r}, want {want_content!r}")
            check(doc["pipeline"] == "e2e" and doc["llm"]["endpoint"] == "fake"
                  and doc["llm"]["model"] == "e2e-model" and doc["llm"]["attempts"] == 1
                  and doc["llm"]["finish_reason"] == "stop",
                  f"result fields of {rel!r}: pipeline={doc['pipeline']} llm={doc['llm']}")
            expected_requests.append(sha256(user))
        note(f"[{binary_policy}] {len(ok)} results: stats equal Python's definitions, "
             f"source sha256/size/path right, llm.content = fake(path + content)")

        # The fake saw exactly one request per sent file, with that user content.
        log = fake.requests()
        got_shas = sorted(e["sha256"] for e in log)
        check(all(e["status"] == 200 for e in log), f"[{binary_policy}] non-200 in request log")
        check(got_shas == sorted(expected_requests),
              f"[{binary_policy}] request log has {len(log)} requests, want {len(expected_requests)}; "
              f"sha256 multisets differ")
        never = [b"HIDDENDOTFOLDER", b"DOTFILE", b"TMPFILE", b"SYMLINK TARGET"]
        for e in log:
            for word in never:
                check(word.decode() not in e.get("first_words", ""),
                      f"an excluded or linked file was sent: {e}")
        note(f"[{binary_policy}] request log: {len(log)} requests, one per result, sha256 of user content match")

        # Error records.
        for rel, kind in special.items():
            doc = load_json(os.path.join(dirs["failed"], rel + ".error.json"))
            err = doc["error"]
            check(err["kind"] == kind and err["message"] and doc["source"]["path"] == rel,
                  f"error record of {rel!r}: {doc}, want kind {kind}")
            if rel in regular and len(regular[rel]) <= MAX_FILE_SIZE:
                want = stats_of(regular[rel])
                got = {k: doc.get("stats", {}).get(k) for k in want}
                check(got == want, f"error record stats of {rel!r}: {got}, want {want}")
        check(os.path.islink(os.path.join(dirs["failed"], "bad/link-to-secret")),
              "the symlink was not moved as a symlink")
        note(f"[{binary_policy}] error records: {sorted(special)} all kind skipped with a message")

        if binary_policy == "send":
            for rel in binaries:
                check(rel in ok, f"binary {rel!r} not sent with binary: send")
            note("[send] binary files (NUL, mostly invalid UTF-8) were sent and answered")
            return

        # `wc` on a sample: the same numbers from an independent tool.
        rng = random.Random(7)
        sample = rng.sample(sorted(r for r in ok if r.startswith("d")), 40) + \
            sorted(r for r in ok if r.startswith("bad/"))
        for rel in sample:
            data = regular[rel]
            wc = wc_check(os.path.join(dirs["done"], rel), data)
            doc = load_json(os.path.join(dirs["outbox"], rel + ".json"))
            s = doc["stats"]
            check(wc["bytes"] == s["bytes"] and wc["lines"] == s["lines"],
                  f"wc -c/-l of {rel!r}: {wc}, dropd {s}")
            if s["utf8_valid"]:
                check(wc["chars"] == s["chars"], f"wc -m of {rel!r}: {wc['chars']}, dropd {s['chars']}")
        note(f"[{binary_policy}] wc -c, wc -l, LC_ALL=C.UTF-8 wc -m agree on {len(sample)} sampled files")
    finally:
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-tree-") as tmp:
        run_tree(tmp, "skip")
        run_tree(tmp, "send")


if __name__ == "__main__":
    run_main("test_pipeline_tree", main)
