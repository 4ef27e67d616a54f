#!/usr/bin/python3
"""One timed run of bench/pipeline's section 8 (the status server's cost).

usage: status_run.py --dropd BIN --config CFG --src DIR --inbox DIR --done DIR
                     --out DIR [--failed DIR] [--status HOST:PORT]
                     [--subscribers 10] [--procs 2] [--fail-soft]
                     [--subscriber-nice N] [--subscriber-bin EVENTS_SUB]
                     [--log FILE] [--timeout 300]

dropd runs in daemon mode (no --once) on CFG, whose pipeline watches INBOX
(empty) and moves each input to DONE once its result is in OUT. The run:

 1. binds a notify socket (abstract namespace) and starts dropd with
    NOTIFY_SOCKET set: READY=1 comes when dropd logs daemon.ready, i.e. every
    pipeline's startup scan is done; that works at log level warn, where the
    daemon.ready line itself is not printed (info would add a log line per
    file to the timed part);
 2. with --status, also waits for GET /readyz 200, then starts
    the subscribers (--subscriber-bin: the C events_sub, bench/lib/events_sub.c;
    without it bench/lib/events_subscribers.py in Python, over --procs
    processes; 10 clients of GET /events) and waits for their
    `ready N` (it has seen dropd_events_subscribers N in /metrics). With
    --fail-soft an /events that is not built (501) leaves N = 0 and the run
    goes on with the status server but no subscriber;
 3. t0, then os.rename() of every file of SRC into INBOX (same file system)
    in name order; then os.scandir(DONE) every 20 ms until it holds every
    file: t1. wall = t1 - t0;
 4. reads dropd_events_dropped_total from /metrics (--status), SIGTERMs dropd
    by its pid, waits for it (os.wait4: exit status, peak RSS, CPU time) and
    for the subscribers' counts; checks one result per file in OUT,
    nothing in FAILED, and that no subscriber saw a gap in the event ids.

Prints one line on stdout:
  wall_s rss_kib dropd_cpu_s subscribers events_min events_max dropped sub_cpu_s
(subscribers, events and dropped are 0 0 0 0 without --status; events_min/max:
the fewest and most events one subscriber saw). Exits 1 with a message on
stderr if anything went wrong; dropd's stderr is in --log.
"""
import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print(f"status_run: {msg}", file=sys.stderr)
    sys.exit(1)


def http_get(addr, path, timeout=2):
    host, _, port = addr.rpartition(":")
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def metric(text, name):
    m = re.search(rf"^{name}(?:{{}})? ([0-9.eE+-]+)$", text, re.M)
    return float(m.group(1)) if m else None


def count(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for a in ("--dropd", "--config", "--src", "--inbox", "--done", "--out"):
        ap.add_argument(a, required=True)
    ap.add_argument("--failed")
    ap.add_argument("--status", metavar="HOST:PORT")
    ap.add_argument("--subscribers", type=int, default=10)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--fail-soft", action="store_true")
    ap.add_argument("--subscriber-nice", type=int, default=0)
    ap.add_argument("--subscriber-bin", help="the C subscribers (events_sub); default: Python")
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()

    names = sorted(os.listdir(args.src))
    if not names:
        fail(f"no files in {args.src}")
    if os.listdir(args.inbox):
        fail(f"{args.inbox} is not empty")

    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_name = f"dropd-bench-notify-{os.getpid()}"
    notify.bind("\0" + notify_name)
    notify.setblocking(False)
    env = dict(os.environ, NOTIFY_SOCKET="@" + notify_name)
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)

    log = open(args.log, "wb")
    dropd = subprocess.Popen([args.dropd, "--config", args.config], env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    subs = None
    status = rusage = None

    def reap(deadline):
        nonlocal status, rusage
        while status is None:
            pid, st, ru = os.wait4(dropd.pid, os.WNOHANG)
            if pid:
                status, rusage = st, ru
                dropd.returncode = os.waitstatus_to_exitcode(st)  # Popen must not wait
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop_all(why):
        if status is None:
            dropd.send_signal(signal.SIGTERM)
            if not reap(time.monotonic() + 30):
                dropd.kill()
                reap(time.monotonic() + 5)
        if subs is not None and subs.poll() is None:
            subs.send_signal(signal.SIGTERM)
            try:
                subs.wait(10)
            except subprocess.TimeoutExpired:
                subs.kill()
                subs.wait()
        fail(why)

    def drain_notify():
        msgs = []
        while True:
            try:
                msgs.append(notify.recv(4096).decode("utf-8", "replace"))
            except BlockingIOError:
                return msgs

    # 1. dropd's startup scan is done
    deadline = time.monotonic() + 60
    while True:
        if any("READY=1" in m.split("\n") for m in drain_notify()):
            break
        if reap(time.monotonic()):
            fail(f"dropd exited ({dropd.returncode}) before it was ready; see {args.log}")
        if time.monotonic() > deadline:
            stop_all("dropd sent no READY=1 in 60 s")
        time.sleep(0.01)

    # 2. the status server is ready and the subscribers are connected
    nsubs = 0
    if args.status:
        while True:
            try:
                if http_get(args.status, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                stop_all(f"GET http://{args.status}/readyz was not 200 in 60 s")
            time.sleep(0.02)
        if args.subscribers:
            if args.subscriber_bin:
                cmd = [args.subscriber_bin, args.status, "-n", str(args.subscribers)]
            else:
                cmd = [sys.executable, os.path.join(HERE, "events_subscribers.py"), args.status,
                       "-n", str(args.subscribers), "--procs", str(args.procs)]
            if args.fail_soft:
                cmd.append("--fail-soft")
            nice = args.subscriber_nice
            subs = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    text=True, preexec_fn=(lambda: os.nice(nice)) if nice else None)
            line = subs.stdout.readline()
            if not line.startswith("ready "):
                stop_all(f"the subscribers did not connect ({line.strip() or 'no output'})")
            nsubs = int(line.split()[1])

    # 3. the timed part: move the files in, wait until every one is done
    n = len(names)
    src, inbox, done = args.src, args.inbox, args.done
    t0 = time.perf_counter()
    for name in names:
        os.rename(os.path.join(src, name), os.path.join(inbox, name))
    t_poll = time.perf_counter()
    hard_deadline = t0 + args.timeout
    while True:
        if count(done) >= n:
            t1 = time.perf_counter()
            break
        now = time.perf_counter()
        if now > hard_deadline:
            stop_all(f"{count(done)} of {n} files done after {args.timeout:g} s")
        if reap(time.monotonic()):
            stop_all(f"dropd exited ({dropd.returncode}) during the run; see {args.log}")
        drain_notify()
        t_poll += 0.02
        time.sleep(max(0.0, t_poll - time.perf_counter()))
    wall = t1 - t0

    # 4. stop; the counts
    dropped = 0
    if args.status:
        try:
            dropped = int(metric(http_get(args.status, "/metrics")[1],
                                 "dropd_events_dropped_total") or 0)
        except OSError as e:
            stop_all(f"GET /metrics after the run: {e}")
    dropd.send_signal(signal.SIGTERM)
    if not reap(time.monotonic() + 60):
        stop_all("dropd did not stop within 60 s of SIGTERM")
    if dropd.returncode != 0:
        stop_all(f"dropd exited {dropd.returncode} after SIGTERM; see {args.log}")
    ev_min = ev_max = 0
    sub_cpu = 0.0
    if subs is not None:
        try:
            subs.wait(15)
        except subprocess.TimeoutExpired:
            subs.send_signal(signal.SIGTERM)  # their streams did not end with dropd
            subs.wait(15)
        out = subs.stdout.read()  # a few lines: the pipe cannot have filled up
        m = re.search(r"^counts subscribers=(\d+) events=(\d+)\.\.(\d+) .* cpu_s=([0-9.]+)",
                      out, re.M)
        if subs.returncode != 0 or not m:
            fail(f"the subscribers exited {subs.returncode}: {out.strip()}")
        print(f"status_run: subscribers {out.strip()}", file=sys.stderr)
        ev_min, ev_max, sub_cpu = int(m.group(2)), int(m.group(3)), float(m.group(4))
        gaps = re.search(r" id_gaps=(\d+) ", out)
        if not gaps or int(gaps.group(1)):
            fail(f"a subscriber missed events (ids not one apart): {out.strip()}")
    results = sum(1 for e in os.scandir(args.out) if e.name.endswith(".json"))
    failed = count(args.failed) if args.failed else 0
    if results != n or failed:
        fail(f"{results} results and {failed} failed for {n} files; see {args.log}")
    cpu = rusage.ru_utime + rusage.ru_stime
    print(f"{wall:.3f} {rusage.ru_maxrss} {cpu:.3f} {nsubs} {ev_min} {ev_max} {dropped} "
          f"{sub_cpu:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
