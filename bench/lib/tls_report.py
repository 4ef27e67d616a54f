#!/usr/bin/python3
"""https and streaming next to plain http for bench/pipeline (section 9).

usage: tls_report.py TLS.tsv [--markdown]

Each TSV line (one dropd --once run):
  kind server conc variant run files wall_s rss_kib connections dropd_cpu_s
  fake_cpu_s
  kind tls; variant http (plain, the instant fake), https (an instant fake
  serving TLS, the endpoint's tls.ca_file), https-stream (the same with
  `stream: true`) or http-stream (plain http with `stream: true`);
  connections: those the fake accepted during the run (over https, each
  one TLS handshake); dropd's CPU (user + system) and
  the fake's during the run (both share the 2 cores).
files/s = files / median wall time, per variant at max_in_flight 16 (the
variants rotate run by run); the ratio to plain http and the peak RSS
(median) next to it. Then the connections per run against max_in_flight:
keep-alive means about one per slot, not one per file.
"""
import statistics
import sys


def load(path):
    rows = []
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split()
        kind, server, conc, variant, run, files, wall, rss, conns = f[:9]
        cpu, fake_cpu = (float(x) for x in f[9:11]) if len(f) >= 11 else (float("nan"),) * 2
        rows.append(dict(kind=kind, server=server, conc=int(conc), variant=variant, run=int(run),
                         files=int(files), wall=float(wall), rss=int(rss), conns=int(conns),
                         cpu=cpu, fake_cpu=fake_cpu))
    return rows


def table(head, body, md):
    if md:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]

    def fmt(r):
        return "  ".join(x.rjust(w) if i else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body])


def spread(values):
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}..{hi}"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    md = "--markdown" in sys.argv
    rows = [r for r in load(args[0]) if r["kind"] == "tls"]
    variants = [("http", "plain http"), ("https", "https"), ("https-stream", "https, stream: true"),
                ("http-stream", "plain http, stream: true")]
    main_conc = 16
    runs = {v: [r for r in rows if r["variant"] == v and r["conc"] == main_conc]
            for v, _ in variants}
    variants = [(v, label) for v, label in variants if runs[v] or v != "http-stream"]
    if not all(runs[v] for v, _ in variants):
        print("https and streaming: no complete run of every variant")
        return 1
    files = runs["http"][0]["files"]
    rate = {v: files / statistics.median(r["wall"] for r in runs[v]) for v, _ in variants}
    body = []
    for v, label in variants:
        walls = [r["wall"] for r in runs[v]]
        body.append([label, str(len(walls)), f"{statistics.median(walls):.3f}", f"{rate[v]:,.0f}",
                     f"{files / max(walls):,.0f}", f"{files / min(walls):,.0f}",
                     f"{100 * rate[v] / rate['http']:.0f}%",
                     f"{statistics.median(r['rss'] for r in runs[v]) / 1024:.1f}",
                     f"{1e6 * statistics.median(r['cpu'] for r in runs[v]) / files:.0f}",
                     f"{1e6 * statistics.median(r['fake_cpu'] for r in runs[v]) / files:.0f}",
                     spread([r["conns"] for r in runs[v]])])
    print(f"https and streaming: dropd --once, on_success move, instant fake, "
          f"c={main_conc}, {files:,} files, variants rotating run by run")
    print(table(["variant", "runs", "median wall s", "files/s", "min", "max", "of http",
                 "peak RSS MiB", "dropd CPU µs/file", "fake CPU µs/file", "connections/run"],
                body, md))
    for v, label in variants:
        print(f"files/s per run, {label}: "
              + " ".join(f"{files / r['wall']:,.0f}" for r in sorted(runs[v], key=lambda r: r["run"])))
    print()
    print("TLS handshakes per run (connections the https fake accepted) against max_in_flight:")
    by_conc = {}
    for r in rows:
        if r["variant"].startswith("https"):
            by_conc.setdefault(r["conc"], []).append(r)
    hs_body = [[str(c), str(len(rs)), spread([r["conns"] for r in rs]),
                f"{max(r['conns'] for r in rs) / c:.2f}", f"{rs[0]['files']:,}"]
               for c, rs in sorted(by_conc.items())]
    print(table(["max_in_flight", "https runs", "handshakes/run", "per slot (max)", "files"],
                hs_body, md))
    worst = max(max(r["conns"] for r in rs) / c for c, rs in by_conc.items())
    print()
    print(("- " if md else "") + ("MET    " if worst <= 1.5 else "MISSED ")
          + f"connection reuse: at most {worst:.2f} TLS handshakes per slot in a run "
          f"(target about one per slot, not one per file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
