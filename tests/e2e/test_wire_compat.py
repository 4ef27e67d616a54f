#!/usr/bin/python3
"""dropd against OpenAI-style endpoints served by servers no one on this
project wrote (issue 13; docs/wire.md says what each one showed).

Each variant below is one `dropd --once` on a handful of files, max_in_flight
2, against one server on 127.0.0.1 (free port, started here, stopped by its
pid). Every file must get a result whose content is exactly what that server
answered for it, at the first attempt; the servers' own connection counts
check dropd's keep-alive: at most max_in_flight connections where the server
keeps them open, one per request where it closes them.

- nginx (Debian's, with libnginx-mod-http-echo): `return 200 '...'` (a
  fixed answer with Content-Length) and the echo module's `echo` (chunked);
- Node's `http` module (wire_node_server.js): Content-Length, chunked in
  three writes, `Connection: close`, and an SSE stream (stream: true);
- Python's http.server (wire_py_server.py): HTTP/1.0 as it comes (closes
  after each answer) and protocol_version HTTP/1.1 (keep-alive);
- an HTTP/1.0 server with no Content-Length: the body ends at the close;
- http.server whose first answer stops halfway through its Content-Length
  body: cut after timeouts.idle, retried, the file's result whole;
- @dwmkerr/mock-llm from the npm registry (an Express app that echoes the
  last message), plain and streamed (it sends no usage: dropd estimates it).
  npm installs it on first use into ~/.cache/dropd/npm (or
  $DROPD_NPM_CACHE): this needs the npm registry once per machine.
"""

import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dropd_e2e import *  # noqa: E402,F401

N_FILES = 6
MAX_IN_FLIGHT = 2
NGINX = "/usr/sbin/nginx"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
MOCK_PACKAGE = "@dwmkerr/mock-llm"
MOCK_VERSION = "0.1.29"
NGINX_ANSWER = ('{"id":"chatcmpl-nginx","object":"chat.completion","created":1700000000,'
                '"model":"m","choices":[{"index":0,"message":{"role":"assistant",'
                '"content":"nginx %s: a fixed answer"},"finish_reason":"stop"}],'
                '"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}')
CONN_LINE = re.compile(r"^conn (\d+)$")
REQ_LINE = re.compile(r"^req (\d+)$")


class LineServer:
    """A server process that prints "listening on 127.0.0.1:PORT", then
    "conn N" / "req N" lines (wire_py_server.py, wire_node_server.js)."""

    def __init__(self, argv, name):
        self.name = name
        self.proc = Proc(argv)
        try:
            line = self.proc.stdout.lines[self.proc.stdout.wait_for(r"^listening on ", 10)]
        except TestFailure:
            self.stop()
            raise TestFailure(f"{name} did not start: {self.proc.stderr.text()[-1000:]}")
        self.port = int(line.rsplit(":", 1)[1])

    def counts(self, start):
        """(connections, requests) from output line `start` on."""
        lines = self.proc.stdout.lines[start:]
        return (sum(1 for l in lines if CONN_LINE.match(l)),
                sum(1 for l in lines if REQ_LINE.match(l)))

    def mark(self):
        return len(self.proc.stdout.lines)

    def stop(self):
        self.proc.signal(15)  # SIGTERM to our own child, by its pid
        try:
            self.proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc.kill()


class Nginx:
    """nginx -g 'daemon off; master_process off;' on a free port; its access
    log has one line "CONNECTION URI STATUS" per request."""

    def __init__(self, folder):
        os.makedirs(os.path.join(folder, "logs"))
        self.port = closed_port()
        self.access_log = os.path.join(folder, "logs", "access.log")
        conf = os.path.join(folder, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"""load_module {ECHO_MODULE};
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  log_format wire '$connection $request_uri $status';
  access_log {self.access_log} wire;
  server {{
    listen 127.0.0.1:{self.port};
    default_type application/json;
    location /return/ {{ return 200 '{NGINX_ANSWER % "return"}'; }}
    location /echo/ {{ echo '{NGINX_ANSWER % "echo"}'; }}
  }}
}}
""")
        self.proc = Proc([NGINX, "-p", folder, "-e", os.path.join(folder, "logs", "error.log"),
                          "-c", conf, "-g", "daemon off; master_process off;"])
        try:
            wait_until(self._listening, 10, "nginx to listen")
        except TestFailure:
            self.stop()
            raise TestFailure("nginx did not start: " + self.proc.stderr.text()[-1000:])

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log_lines(self):
        try:
            with open(self.access_log, encoding="utf-8") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def stop(self):
        self.proc.signal(15)
        try:
            self.proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc.kill()


def mock_llm_main():
    """The installed mock-llm's main.js, installing it with npm if needed."""
    cache = os.environ.get("DROPD_NPM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                              "dropd", "npm")
    prefix = os.path.join(cache, f"mock-llm-{MOCK_VERSION}")
    main_js = os.path.join(prefix, "node_modules", "@dwmkerr", "mock-llm", "dist", "main.js")
    if not os.path.exists(main_js):
        os.makedirs(prefix, exist_ok=True)
        res = subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund",
                              "--ignore-scripts", f"{MOCK_PACKAGE}@{MOCK_VERSION}"],
                             capture_output=True, timeout=300)
        check(res.returncode == 0 and os.path.exists(main_js),
              f"npm could not install {MOCK_PACKAGE}@{MOCK_VERSION} into {prefix} (it needs "
              f"the npm registry once): {res.stderr.decode(errors='replace')[-1500:]}")
    return main_js


class MockLlm:
    """@dwmkerr/mock-llm on 127.0.0.1, its streaming sped up by mock-llm.yaml."""

    def __init__(self, folder):
        os.makedirs(folder)
        with open(os.path.join(folder, "mock-llm.yaml"), "w", encoding="utf-8") as f:
            f.write('{"streaming": {"chunkSize": 16, "chunkIntervalMs": 5}}\n')
        self.port = closed_port()
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(self.port))
        self.proc = Proc(["node", mock_llm_main()], cwd=folder, env=env)
        try:
            self.proc.stdout.wait_for(r"server running on 127\.0\.0\.1:", 20)
        except TestFailure:
            self.stop()
            raise TestFailure("mock-llm did not start: " + self.proc.stderr.text()[-1000:])

    def stop(self):
        self.proc.signal(15)
        try:
            self.proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc.kill()


def run_variant(tmp, label, url, expected, stream=False, idle="5s", first_try=True,
                request="10s"):
    """dropd --once on N_FILES files against `url`; checks each result's
    content is expected(user message), at the first attempt unless
    first_try is False; returns the docs."""
    root = os.path.join(tmp, label)
    os.makedirs(root)
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, root, url, max_in_flight=MAX_IN_FLIGHT, retry=("3", "50ms", "200ms"),
                        prompt_user="{{path}} {{content}}",
                        timeouts={"connect": "2s", "request": request, "idle": idle})
    if stream:
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text.replace("    model: e2e-model\n", "    model: e2e-model\n    stream: true\n"))
    os.makedirs(dirs["inbox"])
    rng = random.Random(zlib.crc32(label.encode()))
    # One line, no quote or backslash: mock-llm pastes the message into its
    # JSON template unescaped (docs/wire.md).
    files = {f"{label}-{i}.txt": (" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
                                  + " café 日本").encode() for i in range(N_FILES)}
    write_files(dirs["inbox"], files)
    started = time.monotonic()
    res = run_dropd(["--once", "--config", cfg], cwd=root, timeout=60)
    run_variant.seconds = time.monotonic() - started
    out = res.stderr.decode("utf-8", "replace")
    check(res.returncode == 0, f"[{label}] exit {res.returncode}:\n{out[-3000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad, f"[{label}] failed files: {sorted(bad)}")
    docs = {}
    for rel in sorted(ok):
        doc = load_json(os.path.join(dirs["outbox"], rel + ".json"))
        want = expected(f"{rel} {files[rel].decode()}")
        check(doc["llm"]["content"] == want,
              f"[{label}] content of {rel!r}: {doc['llm']['content']!r}, want {want!r}")
        check(doc["llm"]["attempts"] == 1 or not first_try,
              f"[{label}] {rel!r} took {doc['llm']['attempts']} attempts")
        docs[rel] = doc
    return docs


def check_connections(label, conns, reqs, keep_alive):
    check(reqs == N_FILES, f"[{label}] the server saw {reqs} requests for {N_FILES} files")
    if keep_alive:
        check(1 <= conns <= MAX_IN_FLIGHT,
              f"[{label}] {conns} connections for {reqs} requests: keep-alive unused")
    else:
        check(conns == reqs, f"[{label}] {conns} connections for {reqs} requests on a server "
                             f"that closes after each answer")
    note(f"({label}) {N_FILES} results as answered, {conns} connections for {reqs} requests")


def nginx_variants(tmp):
    nginx = Nginx(os.path.join(tmp, "nginx"))
    try:
        for where in ("return", "echo"):
            start = len(nginx.log_lines())
            run_variant(tmp, f"nginx-{where}", f"http://127.0.0.1:{nginx.port}/{where}/v1/chat/completions",
                        lambda user, where=where: f"nginx {where}: a fixed answer")
            lines = nginx.log_lines()[start:]
            check(all(l.endswith(" 200") for l in lines), f"[nginx-{where}] access log: {lines}")
            check_connections(f"nginx-{where}", len({l.split()[0] for l in lines}), len(lines), True)
    finally:
        nginx.stop()


def node_variants(tmp):
    node = LineServer(["node", os.path.join(HERE, "wire_node_server.js")], "node")
    try:
        for mode, keep_alive in (("cl", True), ("chunked", True), ("close", False), ("sse", True)):
            mark = node.mark()
            docs = run_variant(tmp, f"node-{mode}", f"http://127.0.0.1:{node.port}/{mode}/v1/chat/completions",
                               lambda user, mode=mode: f"node {mode}: {user}", stream=mode == "sse")
            if mode == "sse":
                usage = [(d["llm"].get("usage"), d["llm"].get("usage_estimated")) for d in docs.values()]
                want = {"prompt_tokens": 7, "completion_tokens": 5}
                check(all(u == want and not est for u, est in usage),
                      f"[node-sse] usage from the last event not kept: {usage[:2]}")
            check_connections(f"node-{mode}", *node.counts(mark), keep_alive)
    finally:
        node.stop()


def python_variants(tmp):
    for mode, keep_alive in (("http10", False), ("http11", True), ("close", False)):
        server = LineServer([sys.executable, os.path.join(HERE, "wire_py_server.py"), mode],
                            f"python {mode}")
        try:
            run_variant(tmp, f"py-{mode}", f"http://127.0.0.1:{server.port}/v1/chat/completions",
                        lambda user, mode=mode: f"{mode}: {user}")
            check_connections(f"py-{mode}", *server.counts(0), keep_alive)
        finally:
            server.stop()


def stall_variant(tmp):
    """A Content-Length answer that stops halfway: cut after timeouts.idle,
    retried, and the file's result whole."""
    server = LineServer([sys.executable, os.path.join(HERE, "wire_py_server.py"), "stall"],
                        "python stall")
    try:
        docs = run_variant(tmp, "py-stall", f"http://127.0.0.1:{server.port}/v1/chat/completions",
                           lambda user: f"stall: {user}", idle="500ms", first_try=False,
                           request="120s")
        # Without the idle cut the stalled attempt would wait out the request
        # timeout (120 s), and run_dropd gives up after 60 s.
        check(run_variant.seconds < 20, f"[py-stall] took {run_variant.seconds:.1f} s")
        attempts = sorted(d["llm"]["attempts"] for d in docs.values())
        check(attempts == [1] * (N_FILES - 1) + [2],
              f"[py-stall] attempts {attempts}, want one file retried once after the stall")
        check(any(l.startswith("stalled ") for l in server.proc.stdout.lines),
              "[py-stall] the server never stalled")
        note(f"(py-stall) the answer stalled midway was cut after timeouts.idle (500ms) "
             f"and retried: attempts {attempts}, {run_variant.seconds:.1f} s")
    finally:
        server.stop()


def mock_llm_variants(tmp):
    mock = MockLlm(os.path.join(tmp, "mock-llm-server"))
    try:
        url = f"http://127.0.0.1:{mock.port}/v1/chat/completions"
        run_variant(tmp, "mock-llm", url, lambda user: user)
        note(f"(mock-llm) {N_FILES} results, each the echoed message")
        docs = run_variant(tmp, "mock-llm-stream", url, lambda user: user, stream=True)
        estimated = [d["llm"].get("usage_estimated") for d in docs.values()]
        check(all(estimated), f"[mock-llm-stream] a stream without usage, yet usage_estimated "
                              f"is {estimated}")
        note(f"(mock-llm-stream) {N_FILES} streamed results, usage estimated")
    finally:
        mock.stop()


def main():
    require_binaries()
    check(os.access(NGINX, os.X_OK) and os.path.exists(ECHO_MODULE),
          "nginx or its echo module is missing (scripts/bootstrap installs them)")
    with tempfile.TemporaryDirectory(prefix="dropd-wire-") as tmp:
        nginx_variants(tmp)
        python_variants(tmp)
        stall_variant(tmp)
        node_variants(tmp)
        mock_llm_variants(tmp)


if __name__ == "__main__":
    run_main("test_wire_compat", main)
