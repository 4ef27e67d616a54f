#!/usr/bin/python3
"""Table and target verdicts for bench/pipeline from its results TSV.

usage: pipeline_report.py RESULTS.tsv [CEILINGS.tsv] [--markdown]

Each TSV line: kind server conc tool run files wall_s rss_kb
  kind   fast | slow | flat
  server nginx | fake
  tool   dropd-keep | dropd-move | seed
files/s = files / median wall time over the runs; RSS = median of the peaks (KiB).
Latency bound of the slow endpoint: conc / 50 ms. CEILINGS.tsv lines
"slow SERVER REQ_PER_S" (wrk -c64 against the 50 ms endpoint) add a column:
dropd's files/s as a share of what the endpoint itself serves.
"""
import collections
import statistics
import sys

LATENCY_S = 0.050


def load(path):
    runs = collections.defaultdict(list)
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        kind, server, conc, tool, _run, files, wall, rss = line.split()
        runs[(kind, server, int(conc), tool, int(files))].append((float(wall), int(rss)))
    return runs


def median_of(samples):
    walls = [w for w, _ in samples]
    rsss = [r for _, r in samples]
    return statistics.median(walls), statistics.median(rsss)


def mib(kb):
    return f"{kb / 1024:.1f}"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    md = "--markdown" in sys.argv
    runs = load(args[0])
    ceilings = {}
    if len(args) > 1:
        for line in open(args[1]):
            parts = line.split()
            if len(parts) == 3:
                ceilings[(parts[0], parts[1])] = float(parts[2])
    rows, verdicts = [], []
    header = ["endpoint", "c", "client", "runs", "files", "wall s", "files/s",
              "x seed", "bound %", "wrk %", "peak RSS MiB", "RSS / seed"]
    for kind in ("fast", "slow"):
        for server in ("nginx", "fake"):
            keys = [k for k in runs if k[0] == kind and k[1] == server]
            if not keys:
                continue
            conc, files = keys[0][2], keys[0][4]
            seed = runs.get((kind, server, conc, "seed", files))
            seed_rate = seed_rss = None
            if seed:
                w, r = median_of(seed)
                seed_rate, seed_rss = files / w, r
            for tool in ("dropd-keep", "dropd-move", "seed"):
                s = runs.get((kind, server, conc, tool, files))
                if not s:
                    continue
                w, r = median_of(s)
                rate = files / w
                bound = conc / LATENCY_S
                x = f"{rate / seed_rate:.1f}x" if seed_rate and tool != "seed" else ""
                rr = f"1/{seed_rss / r:.1f}" if seed_rss and tool != "seed" else ""
                share = f"{100 * rate / bound:.1f}" if kind == "slow" else ""
                ceil = ceilings.get((kind, server))
                wrk = f"{100 * rate / ceil:.1f}" if ceil else ""
                label = f"{server} {'/v1' if kind == 'fast' else '50 ms'}"
                rows.append([label, str(conc), tool, str(len(s)), str(files), f"{w:.2f}",
                             f"{rate:,.0f}", x, share, wrk, mib(r), rr])
                if tool.startswith("dropd"):
                    if kind == "fast" and seed_rate:
                        ok = rate >= 10 * seed_rate
                        verdicts.append((ok, f"{label} c={conc} {tool}: {rate / seed_rate:.1f}x "
                                             f"the seed's files/s (target >= 10x)"))
                    if kind == "slow":
                        ok = rate >= 0.95 * bound
                        verdicts.append((ok, f"{label} c={conc} {tool}: {100 * rate / bound:.1f}% "
                                             f"of the {bound:,.0f} files/s latency bound "
                                             f"(target >= 95%)"))
                    if seed_rss:
                        ok = r * 5 < seed_rss
                        verdicts.append((ok, f"{label} c={conc} {tool}: peak RSS {mib(r)} MiB = "
                                             f"1/{seed_rss / r:.1f} of the seed's {mib(seed_rss)} "
                                             f"MiB (target < 1/5)"))
    flat = sorted((k, v) for k, v in runs.items() if k[0] == "flat")
    flat_rows = []
    if flat:
        for (kind, server, conc, tool, files), s in flat:
            w, r = median_of(s)
            flat_rows.append([f"{files:,}", f"{server} /v1", str(conc), tool, str(len(s)),
                              f"{w:.2f}", f"{files / w:,.0f}", mib(r)])
        rss = [median_of(s)[1] for _, s in flat]
        spread = (max(rss) - min(rss)) / min(rss)
        verdicts.append((spread <= 0.10, f"RSS flatness {', '.join(r[0] for r in flat_rows)} "
                                         f"waiting files: {' / '.join(mib(x) for x in rss)} MiB, "
                                         f"spread {100 * spread:.1f}% (target <= 10%)"))

    def table(head, body):
        if md:
            out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
            out += ["| " + " | ".join(r) + " |" for r in body]
            return "\n".join(out)
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        fmt = lambda r: "  ".join(x.rjust(wd) if i else x.ljust(wd)
                                  for i, (x, wd) in enumerate(zip(r, widths)))
        return "\n".join([fmt(head), fmt(["-" * wd for wd in widths])] + [fmt(r) for r in body])

    print(table(header, rows))
    for (kind, server), c in sorted(ceilings.items()):
        print(f"wrk -t1 -c64 ceiling of {server} 50 ms: {c:,.0f} req/s "
              f"({100 * c / (64 / LATENCY_S):.1f}% of the bound)")
    if flat_rows:
        print()
        print(table(["waiting files", "endpoint", "c", "client", "runs", "wall s", "files/s",
                     "peak RSS MiB"], flat_rows))
    print()
    for ok, text in verdicts:
        print(("- " if md else "") + ("MET    " if ok else "MISSED ") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
