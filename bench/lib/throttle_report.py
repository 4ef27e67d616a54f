#!/usr/bin/python3
"""bench/throttle's helpers: make a corpus, and measure one run.

  throttle_report.py corpus DIR N BYTES SEED
      N English-like *.txt files of about BYTES bytes each in DIR (flat).
  throttle_report.py measure TOOL CASE REQUEST_LOG RESULTS_DIR R T WALL_S
      One TSV row: tool, case, files ok, requests, 429s, 429 %, span s,
      ok requests/min, % of R, prompt tokens/min, % of T, wall s.
      The rate is over the fake's request log, first to last request; the
      tokens are the results' usage.prompt_tokens, which is what the fake
      charges against --tpm (no max_tokens is sent).
  throttle_report.py table TSV
      The rows as an aligned table (Markdown pipes).
"""
import datetime
import json
import os
import random
import sys

WORDS = ("the of and to in is was for on that with as by at from it an be this are have "
         "which or had not but were one all their there been has when who will more no if "
         "out so said what up its about into than them can only other new some could time "
         "these two may then do first any my now such like our over man me even most made").split()


def corpus(out, n, size, seed):
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        words, length = [], 0
        target = int(size * rng.uniform(0.8, 1.2))
        while length < target:
            w = rng.choice(WORDS)
            words.append(w)
            length += len(w) + 1
        with open(os.path.join(out, f"f{i:05}.txt"), "w") as f:
            f.write(" ".join(words) + "\n")


def stamp(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def measure(tool, case, log_path, results, rpm, tpm, wall):
    entries = [json.loads(line) for line in open(log_path) if line.strip()]
    times = sorted(stamp(e["time"]) for e in entries)
    n429 = sum(1 for e in entries if e["status"] == 429)
    ok = sum(1 for e in entries if e["status"] == 200)
    tokens, files_ok = 0, 0
    for dirpath, _, names in os.walk(results):
        for name in names:
            if name.endswith(".json") and not name.endswith(".error.json"):
                with open(os.path.join(dirpath, name)) as f:
                    usage = (json.load(f).get("llm") or {}).get("usage") or {}
                tokens += usage.get("prompt_tokens", 0)
                files_ok += 1
    span = max(times[-1] - times[0], 1e-3) if times else 1e-3
    req_min = ok / span * 60
    tok_min = tokens / span * 60
    row = [tool, case, files_ok, len(entries), n429, f"{100 * n429 / max(len(entries), 1):.1f}",
           f"{span:.1f}", f"{req_min:.0f}", f"{100 * req_min / rpm:.1f}", f"{tok_min:.0f}",
           f"{100 * tok_min / tpm:.1f}", wall]
    print("\t".join(str(x) for x in row))


def table(path):
    head = ["tool", "case", "files ok", "requests", "429s", "429 %", "span s", "ok req/min",
            "% of R", "tokens/min", "% of T", "wall s"]
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = lambda r: "| " + " | ".join(str(c).rjust(w) for c, w in zip(r, widths)) + " |"
    print(fmt(head))
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for r in rows:
        print(fmt(r))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "corpus":
        corpus(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif cmd == "measure":
        measure(args[0], args[1], args[2], args[3], float(args[4]), float(args[5]), args[6])
    elif cmd == "table":
        table(args[0])
    else:
        sys.exit(f"unknown command {cmd}")
