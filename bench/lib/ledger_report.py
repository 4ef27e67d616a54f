#!/usr/bin/python3
"""The ledger's cost and the restart time for bench/pipeline (issue 5).

usage: ledger_report.py LEDGER.tsv [--markdown]

Each TSV line: kind server conc tool run files wall_s rss_kb
  kind ledger:  tool dropd-move (with the ledger) or dropd-move-noledger
                (the DROPD_LEDGER=OFF build), same corpus, alternating runs
  kind first:   the dropd --once that processed the restart corpus
  kind startup: each later dropd --once over the same files and state_dir,
                which only scans and matches the ledger
files/s = files / median wall time. The cost is 1 - ledger files/s / no-ledger
files/s, from the medians (the verdict) and, for the spread, per pair of
runs made back to back.
"""
import statistics
import sys

COST_TARGET = 0.10
STARTUP_TARGET_S = 2.0


def load(path):
    rows = []
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        kind, server, conc, tool, run, files, wall, rss = line.split()
        rows.append(dict(kind=kind, server=server, conc=int(conc), tool=tool, run=int(run),
                         files=int(files), wall=float(wall), rss=int(rss)))
    return rows


def table(head, body, md):
    if md:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def fmt(r):
        return "  ".join(x.rjust(w) if i else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    md = "--markdown" in sys.argv
    rows = load(args[0])
    verdicts = []
    builds = [("dropd-move", "ledger"), ("dropd-move-noledger", "no ledger")]
    runs = {tool: [r for r in rows if r["kind"] == "ledger" and r["tool"] == tool]
            for tool, _ in builds}
    if all(runs.values()):
        files = runs["dropd-move"][0]["files"]
        body, rate = [], {}
        for tool, label in builds:
            walls = [r["wall"] for r in runs[tool]]
            med = statistics.median(walls)
            rate[tool] = files / med
            body.append([label, str(len(walls)), f"{med:.3f}", f"{rate[tool]:,.0f}",
                         f"{files / max(walls):,.0f}", f"{files / min(walls):,.0f}",
                         f"{statistics.median(r['rss'] for r in runs[tool]) / 1024:.1f}"])
        print(f"ledger cost: dropd --once, on_success move, fake instant, c=16, "
              f"{files:,} files, builds alternating")
        print(table(["build", "runs", "median wall s", "files/s", "min", "max",
                     "peak RSS MiB"], body, md))
        cost = 1 - rate["dropd-move"] / rate["dropd-move-noledger"]
        by_run = {}
        for tool, _ in builds:
            for r in runs[tool]:
                by_run.setdefault(r["run"], {})[tool] = r["wall"]
        pairs = sorted(1 - p["dropd-move-noledger"] / p["dropd-move"]
                       for p in by_run.values() if len(p) == 2)
        if pairs:
            print(f"cost per pair of runs: median {100 * statistics.median(pairs):.1f}%, "
                  f"{' '.join(f'{100 * c:.1f}' for c in pairs)} %")
        verdicts.append((cost < COST_TARGET,
                         f"ledger costs {100 * cost:.1f}% of files/s "
                         f"({rate['dropd-move']:,.0f} vs {rate['dropd-move-noledger']:,.0f} "
                         f"without it; target < {100 * COST_TARGET:.0f}%)"))
    first = [r for r in rows if r["kind"] == "first"]
    starts = [r for r in rows if r["kind"] == "startup"]
    if starts:
        files = starts[0]["files"]
        walls = sorted(r["wall"] for r in starts)
        med = statistics.median(walls)
        if verdicts:
            print()
        print(f"restart over {files:,} already-processed files (on_success keep): "
              f"wall s of each later dropd --once {' '.join(f'{w:.2f}' for w in walls)}, "
              f"peak RSS {statistics.median(r['rss'] for r in starts) / 1024:.1f} MiB"
              + (f"; the first run took {first[0]['wall']:.2f} s" if first else ""))
        verdicts.append((med < STARTUP_TARGET_S,
                         f"startup over {files:,} processed files takes {med:.2f} s "
                         f"(median of {len(walls)}; target < {STARTUP_TARGET_S:.0f} s)"))
    print()
    for ok, text in verdicts:
        print(("- " if md else "") + ("MET    " if ok else "MISSED ") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
