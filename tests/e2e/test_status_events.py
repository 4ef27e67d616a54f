#!/usr/bin/python3
"""GET /events (docs/operations.md, "Status server"), against a real dropd and
dropd-fake-llm on loopback.

(a) stream: every file's job events arrive in order, ending in `done`, ids
    one apart; a name that is not UTF-8 keeps the data valid JSON; a client
    resuming with Last-Event-ID (header or ?last_event_id=) gets exactly the
    events after it; /metrics counts the subscribers;
(b) endpoint: the fake answers 401 once, quoting the API key: `endpoint`
    ok -> paused (naming the 401, the key masked), then paused -> ok, and
    the file is done;
(c) slow: a client that never reads while many long-named files flow is
    dropped (dropd_events_dropped_total >= 1) and every file is still done;
(d) follow: `dropd status --follow` prints each change as a line and exits
    0 when the daemon stops;
(e) token: /events without the token is 401, with ?token= a stream; the
    17th subscriber gets 503;
(f) reload: a new status.listen ends the old server's streams cleanly,
    and a client resuming on the new one with its Last-Event-ID gets the
    later events without a reset: the ring and the ids outlive the server.
"""

import http.client
import json
import os
import re
import secrets
import socket
import sys
import tempfile
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401


class EventClient:
    """One /events connection read by a thread: .events is a list of
    {"id", "event", "data"} (data as bytes), .ended once the body's last
    chunk came, .status and .headers once the head is in."""

    def __init__(self, port, target="/events", headers=None, rcvbuf=None, read=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.events, self.status, self.headers, self.body = [], None, {}, b""
        self.ended = False
        self.closed = False
        self.lock = threading.Lock()
        if read:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        buf, body = b"", b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            if self.status is None:
                if b"\r\n\r\n" not in buf:
                    continue
                head, buf = buf.split(b"\r\n\r\n", 1)
                first, *rest = head.decode("latin-1").split("\r\n")
                self.headers = {k.lower(): v.strip() for k, v in
                                (line.split(":", 1) for line in rest)}
                self.status = int(first.split()[1])
            if self.headers.get("transfer-encoding") != "chunked":
                body += buf
                buf = b""
            else:
                while b"\r\n" in buf:
                    size_line, rest = buf.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if len(rest) < size + 2:
                        break
                    body += rest[:size]
                    buf = rest[size + 2:]
                    if size == 0:
                        self.ended = True
            with self.lock:
                self.body = body
                self._parse(body)
        self.closed = True

    def _parse(self, body):
        events = []
        for block in body.split(b"\n\n")[:-1]:
            ev = {"id": None, "event": "message", "data": None}
            for line in block.split(b"\n"):
                if line.startswith(b":") or b":" not in line:
                    continue
                key, value = line.split(b":", 1)
                value = value[1:] if value.startswith(b" ") else value
                if key == b"id":
                    ev["id"] = int(value)
                elif key == b"event":
                    ev["event"] = value.decode()
                elif key == b"data":
                    ev["data"] = value if ev["data"] is None else ev["data"] + b"\n" + value
            if ev["data"] is not None or ev["event"] != "message":
                events.append(ev)
        self.events = events

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait_head(self, timeout=10):
        wait_until(lambda: self.status is not None or self.closed, timeout, "the /events head")
        return self.status

    def close(self):
        # shutdown() first: close() alone sends no FIN while the reader
        # thread sits in recv() on the socket.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def status_port(proc):
    line = proc.stderr.lines[proc.stderr.wait_for(r"status\.listening address=", 20)]
    m = re.search(r"status\.listening address=127\.0\.0\.1:(\d+)", line)
    check(m is not None, f"no port in {line!r}")
    return int(m.group(1))


def add_status(config, listen, token_env=None):
    with open(config, "a", encoding="utf-8") as f:
        f.write(f"status:\n  listen: {yq(listen)}\n")
        if token_env:
            f.write(f"  token: {{ env: {token_env} }}\n")


def metric(port, name):
    for line in get(port, "/metrics")[2].splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise TestFailure(f"no {name} in /metrics")


def job_events(events):
    """[(path bytes, from, to)] of the job events, each data parsed as strict JSON."""
    out = []
    for ev in events:
        if ev["event"] == "job":
            doc = json.loads(ev["data"].decode("utf-8"))  # strict: must be UTF-8 JSON
            check(set(doc) == {"pipeline", "path", "from", "to", "at", "reason"}, f"keys {doc}")
            check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc["at"]), f"at {doc}")
            out.append((doc["path"], doc["from"], doc["to"]))
    return out


def done_paths(events):
    return {path for path, _, to in job_events(events) if to == "done"}


def check_ids(events, after=None):
    ids = [ev["id"] for ev in events if ev["id"] is not None]
    check(ids, "no event with an id")
    if after is not None:
        check(ids[0] == after + 1, f"resumed at {ids[0]}, want {after + 1}")
    check(ids == list(range(ids[0], ids[0] + len(ids))), f"ids not one apart: {ids[:40]}")
    return ids


def test_stream(work):
    fake = Fake(work)
    dropd = None
    clients = []
    try:
        config = os.path.join(work, "stream.yaml")
        dirs = write_config(config, work, fake.url)
        add_status(config, "127.0.0.1:0")
        dropd = start_dropd(["--config", config])
        port = status_port(dropd)
        first = EventClient(port)
        clients.append(first)
        check(first.wait_head() == 200, f"/events answered {first.status}")
        check(first.headers.get("content-type") == "text/event-stream"
              and first.headers.get("cache-control") == "no-store"
              and first.headers.get("x-accel-buffering") == "no", f"headers {first.headers}")
        wait_until(lambda: first.snapshot(), 10, "the first event")
        check(first.snapshot()[0]["event"] == "reset", f"first event {first.snapshot()[0]}")
        check(metric(port, "dropd_events_subscribers") == 1, "one subscriber in /metrics")

        names = [f"f{i}.txt" for i in range(10)]
        weird = b"caf\xe9-\xff\xfe.txt"  # Latin-1, not UTF-8
        write_files(dirs["inbox"], {n: f"file {n}\n".encode() for n in names})
        with open(os.path.join(os.fsencode(dirs["inbox"]), weird), "wb") as f:
            f.write(b"not utf-8 name\n")
        want = set(names) | {"caf\ufffd-\ufffd\ufffd.txt"}
        wait_until(lambda: done_paths(first.snapshot()) >= want, 30, "every file done on /events")
        evs = first.snapshot()
        check_ids(evs)
        for name in names:
            steps = [(f, t) for p, f, t in job_events(evs) if p == name]
            check(steps[-1][1] == "done", f"{name} ends {steps}")
            check(all(steps[i][1] == steps[i + 1][0] for i in range(len(steps) - 1)),
                  f"{name}: transitions do not chain: {steps}")
            check(("waiting", "sending") in steps and ("sending", "writing") in steps,
                  f"{name}: {steps}")
        note("every file's transitions, ids one apart, the non-UTF-8 name replaced")

        last_seen = check_ids(evs)[-1]
        first.close()
        more = [f"g{i}.txt" for i in range(5)]
        write_files(dirs["inbox"], {n: f"more {n}\n".encode() for n in more})
        wait_until(lambda: all(os.path.exists(os.path.join(dirs["outbox"], n + ".json"))
                               for n in more), 30, "the second batch's results")
        for how in ("header", "query"):
            if how == "header":
                again = EventClient(port, headers={"Last-Event-ID": str(last_seen)})
            else:
                again = EventClient(port, target=f"/events?last_event_id={last_seen}")
            clients.append(again)
            wait_until(lambda: done_paths(again.snapshot()) >= set(more), 10,
                       f"the second batch replayed ({how})")
            replay = again.snapshot()
            check(replay[0]["event"] != "reset", f"resume ({how}) started with reset")
            check_ids(replay, after=last_seen)
            paths = {p for p, _, _ in job_events(replay)}
            check(paths == set(more), f"resume ({how}) replayed {paths}")
            again.close()
        note("Last-Event-ID and ?last_event_id= resume with exactly the later events")

        stale = EventClient(port, headers={"Last-Event-ID": "not-a-number"})
        clients.append(stale)
        wait_until(lambda: stale.snapshot(), 10, "an answer to a bad Last-Event-ID")
        check(stale.snapshot()[0]["event"] == "reset", "a bad id starts with reset")
        stale.close()
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
    finally:
        for c in clients:
            c.close()
        if dropd:
            dropd.kill()
        fake.stop()


def test_endpoint(work):
    # The 401 quotes the request's Authorization: the events must mask it.
    fake = Fake(work, faults=["status=401,times=1"], extra=["--echo-credentials"])
    dropd = None
    client = None
    try:
        config = os.path.join(work, "endpoint.yaml")
        dirs = write_config(config, work, fake.url, retry=("3", "50ms", "1000ms"),
                            api_key_env="DROPD_E2E_KEY")
        add_status(config, "127.0.0.1:0")
        api_key = "sk-events-echo-" + secrets.token_hex(12)
        dropd = start_dropd(["--config", config], env=dict(os.environ, DROPD_E2E_KEY=api_key))
        port = status_port(dropd)
        client = EventClient(port)
        check(client.wait_head() == 200, f"/events {client.status}")
        write_files(dirs["inbox"], {"one.txt": b"a file to send\n"})

        def endpoint_events():
            return [json.loads(ev["data"]) for ev in client.snapshot() if ev["event"] == "endpoint"]
        wait_until(lambda: len(endpoint_events()) >= 2 and "one.txt" in done_paths(client.snapshot()),
                   20, "paused, then ok, and the file done")
        evs = endpoint_events()
        check((evs[0]["from"], evs[0]["to"]) == ("ok", "paused"), f"first endpoint event {evs[0]}")
        check("401" in evs[0]["reason"] and evs[0]["endpoint"] == "fake", f"{evs[0]}")
        check(set(evs[0]) == {"endpoint", "from", "to", "at", "reason"}, f"keys {evs[0]}")
        check((evs[-1]["from"], evs[-1]["to"]) == ("paused", "ok"), f"last endpoint event {evs}")
        check(api_key.encode() not in client.body, "the echoed key reached /events")
        check("[redacted endpoints.fake.api_key]" in evs[0]["reason"],
              f"the echo arrived and was masked: {evs[0]['reason']!r}")
        note(f"endpoint events: {[(e['from'], e['to']) for e in evs]}")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
    finally:
        if client:
            client.close()
        if dropd:
            dropd.kill()
        fake.stop()


def test_slow_client(work):
    fake = Fake(work)
    dropd = None
    stuck = None
    try:
        config = os.path.join(work, "slow.yaml")
        dirs = write_config(config, work, fake.url, max_in_flight=32)
        add_status(config, "127.0.0.1:0")
        dropd = start_dropd(["--config", config])
        port = status_port(dropd)
        stuck = EventClient(port, rcvbuf=4096, read=False)  # asks, then never reads
        wait_until(lambda: metric(port, "dropd_events_subscribers") == 1, 10, "the subscriber")
        # Rels of ~2 KB: each file's ~7 events carry its path, about 15 KB a
        # file, 6 MB in all, far past 256 KiB and the sockets' buffers.
        deep = "/".join(["d" * 200] * 10)
        files = {f"{deep}/{i:04d}-{'n' * 150}.txt": f"file {i}\n".encode() for i in range(400)}
        write_files(dirs["inbox"], files)
        wait_until(lambda: metric(port, "dropd_events_dropped_total") >= 1, 60,
                   "the stuck client dropped")
        # At least: with settle 0ms a file may be read once while still empty
        # (open, then write) and again as its new version (a resave), each
        # version with its own result.
        wait_until(lambda: json.loads(get(port, "/status")[2])["pipelines"][0]["done"]
                   >= len(files), 120, "every file done meanwhile")
        check(metric(port, "dropd_events_subscribers") == 0, "the dropped client is not counted")
        note(f"dropped={metric(port, 'dropd_events_dropped_total'):.0f}, all {len(files)} done")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
    finally:
        if stuck:
            stuck.close()
        if dropd:
            dropd.kill()
        fake.stop()


def test_follow(work):
    fake = Fake(work)
    dropd = follow = None
    try:
        config = os.path.join(work, "follow.yaml")
        dirs = write_config(config, work, fake.url)
        port = closed_port()
        add_status(config, f"127.0.0.1:{port}")
        dropd = start_dropd(["--config", config])
        status_port(dropd)
        follow = start_dropd(["status", "--follow", "--config", config])
        follow.stdout.wait_for(r"^-- events were lost", 10)  # the reset a fresh stream starts with
        write_files(dirs["inbox"], {"a.txt": b"followed\n"})
        follow.stdout.wait_for(r"^\d\d:\d\d:\d\d\.\d{3} e2e a\.txt \w+ -> queued", 20)
        follow.stdout.wait_for(r"^\d\d:\d\d:\d\d\.\d{3} e2e a\.txt sending -> writing", 20)
        follow.stdout.wait_for(r"^\d\d:\d\d:\d\d\.\d{3} e2e a\.txt writing -> done", 20)
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
        rc = follow.wait(15)
        check(rc == 0, f"--follow exited {rc}: {follow.stderr.text()}")
        check("the daemon closed the event stream" in follow.stderr.text(),
              f"--follow stderr: {follow.stderr.text()}")
        note("--follow: " + " | ".join(follow.stdout.text().splitlines()[:4]))
    finally:
        for p in (follow, dropd):
            if p:
                p.kill()
        fake.stop()


def test_token_and_bound(work):
    fake = Fake(work)
    dropd = None
    clients = []
    try:
        config = os.path.join(work, "token.yaml")
        write_config(config, work, fake.url)
        add_status(config, "127.0.0.1:0", token_env="DROPD_STATUS_TOKEN")
        env = dict(os.environ, DROPD_STATUS_TOKEN="ev3nts-token")
        dropd = start_dropd(["--config", config], env=env)
        port = status_port(dropd)
        code, headers, _ = get(port, "/events")
        check(code == 401 and headers.get("www-authenticate") == "Bearer", f"no token: {code}")
        for i in range(16):
            c = EventClient(port, target="/events?token=ev3nts-token")
            clients.append(c)
            check(c.wait_head() == 200, f"subscriber {i + 1}: {c.status}")
            wait_until(lambda: c.snapshot(), 10, "the reset")
        code, _, body = get(port, "/events", {"Authorization": "Bearer ev3nts-token"})
        check(code == 503 and json.loads(body) == {"error": "too many /events subscribers (16)"},
              f"17th: {code} {body}")
        clients.pop().close()
        auth = {"Authorization": "Bearer ev3nts-token"}
        wait_until(lambda: "dropd_events_subscribers 15" in get(port, "/metrics", auth)[2], 10,
                   "a leaving subscriber forgotten")
        c = EventClient(port, headers=auth)
        clients.append(c)
        check(c.wait_head() == 200, f"after one left: {c.status}")
        note("401 without the token, 16 subscribers, the 17th 503, room again after one left")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
        wait_until(lambda: all(c.ended for c in clients), 10, "every stream ended cleanly")
    finally:
        for c in clients:
            c.close()
        if dropd:
            dropd.kill()
        fake.stop()


def test_reload(work):
    fake = Fake(work)
    dropd = None
    clients = []
    try:
        config = os.path.join(work, "reload.yaml")
        dirs = write_config(config, work, fake.url)
        with open(config, encoding="utf-8") as f:
            base = f.read()
        old_port, new_port = closed_port(), closed_port()
        add_status(config, f"127.0.0.1:{old_port}")
        dropd = start_dropd(["--config", config])
        status_port(dropd)
        before = EventClient(old_port)
        clients.append(before)
        write_files(dirs["inbox"], {"r1.txt": b"before the reload\n"})
        wait_until(lambda: "r1.txt" in done_paths(before.snapshot()), 20, "r1.txt done")
        last_seen = check_ids(before.snapshot())[-1]
        with open(config, "w", encoding="utf-8") as f:
            f.write(base)
        add_status(config, f"127.0.0.1:{new_port}")
        mark = len(dropd.stderr.lines)
        dropd.signal(signal.SIGHUP)
        dropd.stderr.wait_for(rf"status\.listening address=127\.0\.0\.1:{new_port}", 20, start=mark)
        wait_until(lambda: before.ended, 10, "the old server's stream ended cleanly")
        after = EventClient(new_port, headers={"Last-Event-ID": str(last_seen)})
        clients.append(after)
        write_files(dirs["inbox"], {"r2.txt": b"after the reload\n"})
        wait_until(lambda: "r2.txt" in done_paths(after.snapshot()), 20, "r2.txt done on the new server")
        evs = after.snapshot()
        check(evs[0]["event"] != "reset", f"the resume on the new server began with {evs[0]}")
        check_ids(evs, after=last_seen)
        check("r1.txt" not in {p for p, _, _ in job_events(evs)}, "r1.txt's events came twice")
        note(f"after a reload to a new port, resumed after id {last_seen} without a reset")
        dropd.signal(signal.SIGTERM)
        check(dropd.wait(30) == 0, "dropd exit code")
    finally:
        for c in clients:
            c.close()
        if dropd:
            dropd.kill()
        fake.stop()


def main():
    require_binaries()
    for name, fn in (("stream", test_stream), ("endpoint", test_endpoint),
                     ("slow", test_slow_client), ("follow", test_follow),
                     ("token", test_token_and_bound), ("reload", test_reload)):
        with tempfile.TemporaryDirectory() as work:
            note(f"-- {name}")
            fn(work)


if __name__ == "__main__":
    run_main("test_status_events", main)
