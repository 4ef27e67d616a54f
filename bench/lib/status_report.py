#!/usr/bin/python3
"""The status server's cost for bench/pipeline (section 8).

usage: status_report.py STATUS.tsv [--markdown]

Each TSV line (one run of bench/lib/status_run.py):
  kind server conc variant run files wall_s rss_kib dropd_cpu_s subscribers
  events_min events_max dropped sub_cpu_s
  kind status; variant off (no `status:` in the config) or on (the status
  server and 10 GET /events subscribers); the two alternate ABBA. With
  bench/pipeline --status-baseline a third variant, base (on, run by
  another dropd binary), rotates with them (ABC, CBA). wall_s is
  from the first rename into the inbox to the last file in the done folder;
  dropd_cpu_s is dropd's user + system CPU over its whole life (start-up and
  stop included); events_min/max the fewest and most events one subscriber
  read, dropped dropd_events_dropped_total after the run, sub_cpu_s the
  subscribers' CPU (they run on the same cores as dropd).
files/s = files / median wall time. The verdict is on files/s(on) /
files/s(off) from the medians (target: at least 95%); the median over the
back-to-back pairs is printed for the spread, and dropd's CPU a file per
pair (the figure a loaded host disturbs least).
"""
import statistics
import sys

RATIO_TARGET = 0.95
SUBSCRIBERS = 10


def load(path):
    rows = []
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        (kind, server, conc, variant, run, files, wall, rss, cpu, subs, ev_min, ev_max,
         dropped, sub_cpu) = line.split()
        rows.append(dict(kind=kind, server=server, conc=int(conc), variant=variant,
                         run=int(run), files=int(files), wall=float(wall), rss=int(rss),
                         cpu=float(cpu), subs=int(subs), ev_min=int(ev_min),
                         ev_max=int(ev_max), dropped=int(dropped), sub_cpu=float(sub_cpu)))
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
    rows = [r for r in load(args[0]) if r["kind"] == "status"]
    variants = [("off", "status off"), ("on", f"on, {SUBSCRIBERS} subscribers")]
    if any(r["variant"] == "base" for r in rows):
        variants.append(("base", f"on, {SUBSCRIBERS} subscribers, baseline dropd"))
    runs = {v: [r for r in rows if r["variant"] == v] for v, _ in variants}
    if not all(runs.values()):
        print("status server's cost: no complete run of both variants")
        return 1
    files = runs["off"][0]["files"]
    subs = [r["subs"] for r in runs["on"]]
    if min(subs) < SUBSCRIBERS:
        variants[1] = ("on", f"on, {min(subs)}..{max(subs)} subscribers" if min(subs) != max(subs)
                       else f"on, {min(subs)} subscribers")
    body, rate = [], {}
    for v, label in variants:
        walls = [r["wall"] for r in runs[v]]
        med = statistics.median(walls)
        rate[v] = files / med
        cpu = statistics.median(r["cpu"] for r in runs[v])
        ev = statistics.median(r["ev_min"] for r in runs[v])
        body.append([label, str(len(walls)), f"{med:.3f}", f"{rate[v]:,.0f}",
                     f"{files / max(walls):,.0f}", f"{files / min(walls):,.0f}",
                     f"{cpu:.2f}", f"{1e6 * cpu / files:.0f}",
                     f"{statistics.median(r['rss'] for r in runs[v]) / 1024:.1f}",
                     f"{ev:,.0f}" if v != "off" else "-",
                     str(sum(r["dropped"] for r in runs[v])) if v != "off" else "-",
                     f"{statistics.median(r['sub_cpu'] for r in runs[v]):.2f}" if v != "off"
                     else "-"])
    print(f"status server's cost: dropd in daemon mode, files renamed into its inbox, "
          f"on_success move, fake instant, c=16, {files:,} files, variants alternating")
    print(table(["variant", "runs", "median wall s", "files/s", "min", "max",
                 "dropd CPU s", "CPU µs/file", "peak RSS MiB", "events/subscriber",
                 "dropped", "subscriber CPU s"], body, md))
    for v, label in variants:
        print(f"files/s per run, {label}: "
              + " ".join(f"{files / r['wall']:,.0f}" for r in sorted(runs[v], key=lambda r: r["run"])))
    ratio = rate["on"] / rate["off"]
    by_run = {}
    for v, _ in variants:
        for r in runs[v]:
            by_run.setdefault(r["run"], {})[v] = r
    for v, label in variants[1:]:
        pairs = sorted(p["off"]["wall"] / p[v]["wall"] for p in by_run.values()
                       if "off" in p and v in p)
        cpu_pairs = sorted(p[v]["cpu"] / p["off"]["cpu"] for p in by_run.values()
                           if "off" in p and v in p)
        if pairs:
            print(f"files/s {v} / off per round of runs: median "
                  f"{100 * statistics.median(pairs):.1f}%, "
                  f"{' '.join(f'{100 * x:.1f}' for x in pairs)} %")
            print(f"dropd CPU {v} / off per round of runs: median "
                  f"{100 * statistics.median(cpu_pairs):.1f}%, "
                  f"{' '.join(f'{100 * x:.1f}' for x in cpu_pairs)} %")
        cpu_ratio = (statistics.median(r["cpu"] for r in runs[v])
                     / statistics.median(r["cpu"] for r in runs["off"]))
        print(f"dropd CPU, {label}: {100 * cpu_ratio:.1f}% of status off "
              f"(whole process life, medians)")
    notes = []
    if any(r["ev_min"] != r["ev_max"] for r in runs["on"]):
        notes.append("subscribers read different numbers of events in a run")
    if any(r["dropped"] for r in runs["on"]):
        notes.append(f"dropd dropped {sum(r['dropped'] for r in runs['on'])} subscriber(s) "
                     "for reading slowly: they did not keep up")
    for n in notes:
        print(f"warning: {n}")
    print()
    text = (f"the status server with {min(subs)} /events subscriber(s) runs at "
            f"{100 * ratio:.1f}% of files/s without it ({rate['on']:,.0f} vs "
            f"{rate['off']:,.0f}; target at least {100 * RATIO_TARGET:.0f}%)")
    if min(subs) < SUBSCRIBERS:
        print(("- " if md else "") + "NOT MEASURED " + text + f": not the target's "
              f"{SUBSCRIBERS} subscribers (GET /events not available in this dropd?)")
    else:
        print(("- " if md else "") + ("MET    " if ratio >= RATIO_TARGET and not notes
                                      else "MISSED ") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
