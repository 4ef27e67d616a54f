#!/usr/bin/python3
"""N clients of dropd's GET /events for bench/pipeline's section 8.

usage: events_subscribers.py HOST:PORT [-n 10] [--procs 2] [--token T]
                             [--fail-soft] [--json] [--batch-ms 2]
                             [--ready-timeout 10]

Opens N connections to http://HOST:PORT/events, reads every byte the server
sends, undoes the chunked transfer encoding and parses the SSE stream
(docs/operations.md, "The status server"): events separated by a blank line,
`event:`, `id:` and `data:` fields, `:` comment lines (`: keepalive`). Per
subscriber it counts the events by type and checks that the ids go up by one
(a gap means the server dropped events or the client). With --json every
`data:` of a job or endpoint event is also decoded with json.loads (slower:
about 3x the CPU; without it a data line is only split off).

Once every connection has its 200 and its headers, it polls GET /metrics
until `dropd_events_subscribers N`, then prints `ready N` on stdout. With
--fail-soft an /events that does not answer 200 (today: 501, not built yet)
is a warning on stderr and `ready 0` on stdout, and the script exits 0 (only
for 501: any other answer, 503 for too many subscribers or 401, is an error).

The subscribers are spread over --procs processes (default 2: on this
2-core machine one Python process parses ~0.5M events/s, and 10 streams at
10,000 files/s carry ~0.6M). Each is one thread, epoll over non-blocking
sockets with 4 MiB receive buffers: a pass reads what every socket holds,
then sleeps --batch-ms so that reads are large (a read per event would cost
more CPU than the parsing). At 8 MB/s per stream, 2 ms is 16 KB, far below
the server's 256 KiB per subscriber. Whole batches of the usual events are
counted with C-speed scans (bytes.count, one regex); anything else is parsed
line by line.

It stops when every stream has ended (dropd closes them when it stops) or on
SIGTERM/SIGINT (the parent passes it on to its processes by pid), and
prints one line on stdout:
  counts subscribers=N events=MIN..MAX job=.. endpoint=.. reset=..
         keepalive=.. id_gaps=.. bad=.. ended=K cpu_s=..
(events, job, endpoint: the sum over subscribers for job/endpoint/reset/
keepalive; events MIN..MAX: the fewest and most one subscriber saw).
"""
import argparse
from collections import Counter
import http.client
import json
import os
import re
import selectors
import signal
import socket
import sys
import time

ID_RE = re.compile(rb"\nid: ?([0-9]+)")
KIND_RE = re.compile(rb"\nevent: ?([^\n]*)")


class Sub:
    def __init__(self, index, host, port, token):
        self.index = index
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        path = "/events" + (f"?token={token}" if token else "")
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                          "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
                          .encode())
        self.head = b""          # until the response head is complete
        self.status = None
        self.chunked = False
        self.raw = b""           # received, not yet de-chunked
        self.chunk_left = 0      # payload bytes left in the current chunk
        self.crlf_left = 0       # bytes of the CRLF after it still to come
        self.text = b""          # de-chunked, not yet a whole event
        self.ended = False
        self.events = self.job = self.endpoint = self.reset = 0
        self.keepalive = self.gaps = self.bad = self.other = 0
        self.last_id = None

    # -- transfer framing --------------------------------------------------
    def feed(self, data, parse_json):
        if self.status is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > 65536:
                    raise ValueError("response head over 64 KiB")
                return
            head, data = self.head[:end].decode("latin-1"), self.head[end + 4:]
            self.head = b""
            lines = head.split("\r\n")
            self.status = int(lines[0].split()[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
                    self.chunked = True
            if self.status != 200:
                return
        if not self.chunked:
            self.parse(data, parse_json)
            return
        buf = self.raw + data if self.raw else data
        self.raw = b""
        pos, n, out, find = 0, len(buf), [], buf.find
        while pos < n:
            if self.chunk_left:  # a chunk that goes on from an earlier read
                take = min(self.chunk_left, n - pos)
                out.append(buf[pos:pos + take])
                pos += take
                self.chunk_left -= take
                if not self.chunk_left:
                    self.crlf_left = 2
                continue
            if self.crlf_left:
                take = min(self.crlf_left, n - pos)
                if buf[pos:pos + take] != b"\r\n"[2 - self.crlf_left:][:take]:
                    raise ValueError("chunk not followed by CRLF")
                pos += take
                self.crlf_left -= take
                continue
            eol = find(b"\r\n", pos)
            if eol < 0:
                self.raw = buf[pos:]  # a size line split across reads
                break
            try:
                size = int(buf[pos:eol], 16)
            except ValueError:
                size = int(buf[pos:eol].split(b";", 1)[0], 16)  # chunk extensions
            if size == 0:
                self.ended = True
                break
            pos = eol + 2
            end = pos + size
            if end + 2 <= n:  # the whole chunk is here: the usual case
                if buf[end:end + 2] != b"\r\n":
                    raise ValueError("chunk not followed by CRLF")
                out.append(buf[pos:end])
                pos = end + 2
            else:
                self.chunk_left = size
        if out:
            self.parse(b"".join(out), parse_json)

    # -- SSE ------------------------------------------------------------------
    def count_fast(self, text):
        """Counts whole events with C-speed scans when TEXT ("\\n" + events,
        each ending in a blank line) has only what dropd sends: blocks of
        `event:`, `id:`, one `data:` line, or a lone `: keepalive`. Returns
        False (nothing counted) for anything else: the caller parses it line
        by line."""
        kinds = KIND_RE.findall(text)
        keepalive = text.count(b"\n: keepalive\n\n")
        blocks = text.count(b"\n\n")
        if (len(kinds) + keepalive != blocks or text.count(b"\ndata:") != len(kinds)
                or text.count(b"\n") != 4 * len(kinds) + 2 * keepalive + 1):
            return False
        self.keepalive += keepalive
        self.events += len(kinds)
        c = Counter(kinds)
        self.job += c.pop(b"job", 0)
        self.endpoint += c.pop(b"endpoint", 0)
        self.reset += c.pop(b"reset", 0)
        self.other += sum(c.values())
        return True

    def parse(self, data, parse_json):
        text = self.text + data if self.text else data
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n")  # dropd sends \n; tolerate CRLF
        cut = text.rfind(b"\n\n")
        if cut < 0:
            self.text = text
            return
        whole, self.text = text[:cut + 2], text[cut + 2:]
        # ids: one regex over the whole batch (C speed), then a cheap check
        ids = [int(x) for x in ID_RE.findall(b"\n" + whole)]
        if ids:
            if self.last_id is not None and ids[0] != self.last_id + 1:
                self.gaps += 1
            if ids[-1] - ids[0] + 1 != len(ids):
                self.gaps += sum(1 for a, b in zip(ids, ids[1:]) if b != a + 1)
            self.last_id = ids[-1]
        if not parse_json and self.count_fast(b"\n" + whole):
            return
        for block in whole.split(b"\n\n"):
            if block[:7] == b"event: ":  # what dropd sends: event, id, data lines
                eol = block.find(b"\n")
                kind = block[7:eol]
                if eol < 0 or b"\ndata:" not in block:
                    self.bad += 1
                    continue
                self.events += 1
                if kind == b"job":
                    self.job += 1
                elif kind == b"endpoint":
                    self.endpoint += 1
                elif kind == b"reset":
                    self.reset += 1
                else:
                    self.other += 1
                if parse_json and kind in (b"job", b"endpoint"):
                    at = block.find(b"\ndata:") + 6
                    if block[at:at + 1] == b" ":
                        at += 1
                    try:
                        json.loads(block[at:].replace(b"\ndata: ", b"\n"))
                    except ValueError:
                        self.bad += 1
                continue
            if not block:
                continue
            kind, datas, fields = b"message", [], 0
            for line in block.split(b"\n"):
                if line[:1] == b":":
                    if line.startswith(b": keepalive") or line == b":keepalive":
                        self.keepalive += 1
                    continue
                name, colon, value = line.partition(b":")
                if not colon:
                    self.bad += 1
                    continue
                fields += 1
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"event":
                    kind = value
                elif name == b"data":
                    datas.append(value)
            if not fields:
                continue  # comments only
            self.events += 1
            if kind == b"job":
                self.job += 1
            elif kind == b"endpoint":
                self.endpoint += 1
            elif kind == b"reset":
                self.reset += 1
            else:
                self.other += 1
            if parse_json and kind in (b"job", b"endpoint"):
                try:
                    json.loads(b"\n".join(datas))
                except ValueError:
                    self.bad += 1


def metric(host, port, token, name):
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", "/metrics", headers=headers)
        body = conn.getresponse().read().decode()
    finally:
        conn.close()
    m = re.search(rf"^{name}(?:{{}})? ([0-9.eE+-]+)$", body, re.M)
    return float(m.group(1)) if m else None


def serve(subs, args, out, stop):
    """Reads SUBS' streams; writes `heads STATUS...` once every response head is
    in, then `counts JSON` at the end, each a line on the file OUT."""
    sel = selectors.DefaultSelector()
    for s in subs:
        s.sock.setblocking(False)
        sel.register(s.sock, selectors.EVENT_READ, s)

    def pump(timeout):
        for key, _ in sel.select(timeout):
            s = key.data
            while True:
                try:
                    data = s.sock.recv(1 << 20)
                except (BlockingIOError, InterruptedError):
                    break
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                if not data:
                    s.ended = True
                    break
                s.feed(data, args.json)
                if s.status not in (None, 200) or s.ended:
                    break
            if s.ended or s.status not in (None, 200):
                sel.unregister(s.sock)
                s.sock.close()
                s.ended = True

    deadline = time.monotonic() + args.ready_timeout
    while not stop() and any(s.status is None for s in subs) and time.monotonic() < deadline:
        pump(0.02)
    out.write("heads " + " ".join(str(s.status) for s in subs) + "\n")
    out.flush()
    batch = args.batch_ms / 1000
    while not stop() and not all(s.ended for s in subs):
        pump(0.05)
        if batch:
            time.sleep(batch)
    pump(0)  # what is left in the buffers
    keys = ("events", "job", "endpoint", "reset", "keepalive", "gaps", "bad", "other", "ended")
    counts = [{k: int(getattr(s, k)) for k in keys} for s in subs]
    out.write("counts " + json.dumps(dict(subs=counts, cpu_s=time.process_time())) + "\n")
    out.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("address", help="HOST:PORT of dropd's status server")
    ap.add_argument("-n", type=int, default=10, help="subscribers (default 10)")
    ap.add_argument("--procs", type=int, default=2,
                    help="processes the subscribers are spread over (default 2)")
    ap.add_argument("--token")
    ap.add_argument("--fail-soft", action="store_true",
                    help="/events answering 501 (not built) is a warning, not an error")
    ap.add_argument("--json", action="store_true", help="json.loads every data line")
    ap.add_argument("--batch-ms", type=float, default=2.0)
    ap.add_argument("--ready-timeout", type=float, default=10.0)
    args = ap.parse_args()
    host, _, port = args.address.rpartition(":")
    host, port = host.strip("[]"), int(port)

    stopped, children, parent = [], [], os.getpid()

    def stop_children():
        for pid, _ in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def on_signal(signum, frame):
        stopped.append(signum)
        if os.getpid() == parent:
            stop_children()  # they print their counts; the parent then prints the sum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stop = lambda: bool(stopped)

    # the processes: each reads its share of the streams and reports on a pipe
    procs = max(1, min(args.procs, args.n))
    for k in range(procs):
        share = range(k, args.n, procs)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for _, f in children:
                f.close()
            children.clear()
            out = os.fdopen(w, "w")
            try:
                serve([Sub(i, host, port, args.token) for i in share], args, out, stop)
            except Exception as e:  # reported by the parent
                out.write(f"error {type(e).__name__}: {e}\n")
                out.flush()
            os._exit(0)
        os.close(w)
        children.append((pid, os.fdopen(r)))

    def reap():
        for pid, _ in children:
            os.waitpid(pid, 0)

    # 1. every response head, then the server's own count of subscribers
    statuses, errors = [], []
    for _, f in children:
        line = f.readline()
        if line.startswith("heads "):
            statuses += [None if x == "None" else int(x) for x in line.split()[1:]]
        else:
            errors.append(line.strip() or "a subscriber process ended")
    bad = [x for x in statuses if x != 200]
    if errors or bad:
        stop_children()
        reap()
        if errors:
            print(f"events_subscribers: {errors[0]}", file=sys.stderr)
            return 1
        first = bad[0]
        msg = (f"events_subscribers: GET /events answered {first or 'nothing'}"
               f"{' (not built yet in this dropd)' if first == 501 else ''}")
        if not args.fail_soft or first != 501:
            print(msg, file=sys.stderr)
            return 1
        print(f"{msg}: running with 0 subscribers", file=sys.stderr)
        print("ready 0", flush=True)
        print("counts subscribers=0 events=0..0 job=0 endpoint=0 reset=0 keepalive=0 "
              "id_gaps=0 bad=0 ended=0 cpu_s=0.000", flush=True)
        return 0
    deadline = time.monotonic() + args.ready_timeout
    count = None
    while not stop() and time.monotonic() < deadline:
        try:
            count = metric(host, port, args.token, "dropd_events_subscribers")
        except OSError:
            count = None
        if count is not None and count >= args.n:
            break
        time.sleep(0.02)
    if count is None or count < args.n:
        stop_children()
        reap()
        if not stop():
            print(f"events_subscribers: {args.n} streams open but dropd_events_subscribers "
                  f"{count} after {args.ready_timeout:g} s", file=sys.stderr)
        return 1
    print(f"ready {args.n}", flush=True)

    # 2. the children read until every stream ends (dropd stops) or SIGTERM
    results = []
    for pid, f in children:
        while True:
            try:
                line = f.readline()
                break
            except InterruptedError:
                continue
        if line.startswith("counts "):
            results.append(json.loads(line[7:]))
        else:
            errors.append(line.strip() or "a subscriber process ended without counts")
    reap()
    if errors:
        print(f"events_subscribers: {errors[0]}", file=sys.stderr)
        return 1
    subs = [c for r in results for c in r["subs"]]
    total = lambda k: sum(c[k] for c in subs)
    print(f"counts subscribers={len(subs)} events={min(c['events'] for c in subs)}.."
          f"{max(c['events'] for c in subs)} job={total('job')} endpoint={total('endpoint')} "
          f"reset={total('reset')} keepalive={total('keepalive')} id_gaps={total('gaps')} "
          f"bad={total('bad') + total('other')} ended={total('ended')} "
          f"cpu_s={sum(r['cpu_s'] for r in results):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
